import { JetStreamApiCodes } from '@nats-io/jetstream'

/**
 * The servers' error codes the core branches on, by name: no bare number in a check. Each is the
 * server's own, stable across versions; FerretDB answers with MongoDB's.
 */

/** `MongoServerError.code` (and a bulk write's `WriteError.code`). */
export const MongoCodes = {
  /** A unique index (`_id` or another) holds the key already: the document is there. */
  DuplicateKey: 11000,
  /** No such collection (listing the indexes of one not yet written). */
  NamespaceNotFound: 26,
  /** The server lacks the feature (FerretDB v1 creating a TTL index). */
  NotImplemented: 238,
} as const

/** `JetStreamApiError.code`: the ones nats.js names (`JetStreamApiCodes`), and those it does not. */
export const JetStreamCodes = {
  ...JetStreamApiCodes,
  /** A stream of that name exists with another configuration (another instance made it first). */
  StreamNameInUse: 10058,
} as const
