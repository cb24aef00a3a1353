import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { MongoClient } from 'mongodb'
import type { Logger } from 'pino'
import { provisionParkedStream } from './consume/park.ts'
import { connectToNats, isNatsConnection } from './nats-connection.ts'
import type { ResolvedServiceOptions } from './options.ts'
import { loadSigningSecret, messageSigner, type MessageSigner } from './publish/signature.ts'
import { productIndexes } from './indexes.ts'
import { eventStore, type EventStore } from './store/event-store.ts'
import { ensureIndexes } from './store/indexes.ts'
import { provisionStream, type StreamDifference } from './streams.ts'

/** What a running service holds on to: its connections, its store, its streams, its signer. */
export interface ServiceConnections {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  store: EventStore
  signer: MessageSigner
  /** Settings in which the existing stream differs from the configuration. */
  streamDifferences: StreamDifference[]
  /** The stream's partitions of keyed events; undefined when it does not partition them. */
  partitions: number | undefined
  /** Closes what was opened here (a connection given by the caller stays open). */
  close(): Promise<void>
}

/**
 * Connects to MongoDB and NATS, provisions the stream, the parked stream and the event store's
 * indexes, and loads the signing secret. When a step fails, what was opened is closed, so a
 * caller that retries leaks nothing.
 */
export async function openServiceConnections(
  options: ResolvedServiceOptions,
  logger: Logger,
): Promise<ServiceConnections> {
  const ownsMongo = typeof options.mongodb === 'string'
  const mongo =
    typeof options.mongodb === 'string'
      ? await new MongoClient(options.mongodb, {
          serverSelectionTimeoutMS: options.publishTimeoutMs,
        }).connect()
      : options.mongodb
  let nc: NatsConnection | undefined
  const close = async (drain: boolean) => {
    if (nc && !isNatsConnection(options.nats)) {
      const connection = nc
      // drain() flushes the last acks; with NATS unreachable it cannot, and close() is all there is.
      await (drain ? connection.drain() : connection.close()).catch(() => connection.close())
    }
    if (ownsMongo) await mongo.close().catch(() => {})
  }
  try {
    nc = isNatsConnection(options.nats)
      ? options.nats
      : await connectToNats(options.nats, options.name)
    const store = eventStore(mongo.db(options.database))
    const jsm = await jetstreamManager(nc)
    const { created, differences, partitions } = await provisionStream(jsm, options.stream)
    if (differences.length > 0) {
      logger.warn(
        { stream: options.stream.name, differences },
        'the existing stream differs from the configuration; it was left unchanged',
      )
    } else if (created) logger.info({ stream: options.stream.name }, 'created stream')
    if (partitions === undefined)
      logger.warn(
        { stream: options.stream.name },
        'the stream has a subject transform of its own: keyed events are published and handled unkeyed, in no particular order (docs/ordering.md)',
      )
    await provisionParkedStream(jsm, options.stream)
    await ensureIndexes(store, productIndexes)
    const signer = messageSigner(await loadSigningSecret(store, options.signingKey))
    return {
      nc,
      js: jetstream(nc),
      jsm,
      store,
      signer,
      streamDifferences: differences,
      partitions,
      close: () => close(true),
    }
  } catch (error) {
    await close(false)
    throw error
  }
}
