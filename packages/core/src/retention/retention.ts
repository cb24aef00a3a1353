import { MongoServerError, type Collection, type Document, type Filter } from 'mongodb'
import type { Logger } from 'pino'
import { ConfigurationError } from '../errors.ts'
import { runEvery } from '../periodic.ts'
import { MongoCodes } from '../server-codes.ts'
import type { EventStore } from '../store/event-store.ts'

export interface RetentionOptions {
  /**
   * How long an event stays in MongoDB: after it is archived when archiving is on, after it is
   * published when it is off. Undefined keeps events in MongoDB for good.
   */
  eventsMs?: number
  /** The same for operations (counted from archiving, or from the operation's end). */
  operationsMs?: number
  /**
   * How long a consumer group's record that it finished an event (the processed ledger) stays.
   * It must outlive every redelivery of the event, so the default, with retention on, is the
   * stream's max age: JetStream holds (and can redeliver) no older message. Replays have ledger
   * entries of their own, and a DLQ entry was never processed, so neither needs older entries.
   */
  processedMs?: number
  /**
   * What removes expired documents: a TTL index on `expireAt` where the server has them
   * (MongoDB), or a sweeper in every instance. Default `auto`: the TTL index when the server
   * accepts it, else the sweeper.
   */
  remover?: 'auto' | 'ttl-index' | 'sweeper'
  /** How often the sweeper runs. Default 60 s. */
  sweepIntervalMs?: number
  /**
   * Documents removed per delete. Default 20,000: FerretDB v1 refuses a delete of more than
   * 65,535 documents at once (one PostgreSQL parameter each), and each delete reads the whole
   * collection there, so fewer, larger deletes cost less.
   */
  sweepBatchSize?: number
}

export type Remover = 'ttl-index' | 'sweeper' | 'off'

/** The collections whose documents get `expireAt` (archive claims outlive their documents). */
function expiring(store: EventStore): Collection<Document & { _id: string }>[] {
  return [
    store.events,
    store.operations,
    store.archiveClaims,
    store.processed,
    store.operationEnds,
    store.dlqAlertClaims,
  ] as unknown as Collection<Document & { _id: string }>[]
}

/** Collections that are never archived: their expired documents go without the archive check. */
function notArchived(store: EventStore): string[] {
  return [
    store.archiveClaims.collectionName,
    store.processed.collectionName,
    store.operationEnds.collectionName,
    store.dlqAlertClaims.collectionName,
  ]
}

/** Retention is on when any keep time is set. */
export function retentionOn(
  retention: RetentionOptions | undefined,
): retention is RetentionOptions {
  return (
    retention?.eventsMs !== undefined ||
    retention?.operationsMs !== undefined ||
    retention?.processedMs !== undefined
  )
}

/**
 * Chooses how expired documents are removed, and creates the TTL indexes when that is the way.
 * FerretDB v1 has no TTL index (code 238): there the sweeper does the same job.
 */
export async function chooseRemover(
  store: EventStore,
  retention: RetentionOptions | undefined,
): Promise<Remover> {
  if (!retentionOn(retention)) return 'off'
  for (const ms of [retention.eventsMs, retention.operationsMs, retention.processedMs]) {
    if (ms !== undefined && (!Number.isFinite(ms) || ms < 0)) {
      throw new ConfigurationError(`retention: a keep time must be a number of ms ≥ 0, got ${ms}`)
    }
  }
  const remover = retention.remover ?? 'auto'
  if (remover === 'sweeper') return 'sweeper'
  try {
    for (const collection of expiring(store)) {
      await collection.createIndex({ expireAt: 1 }, { expireAfterSeconds: 0, name: 'expireAt_ttl' })
    }
    return 'ttl-index'
  } catch (error) {
    if (!(error instanceof MongoServerError) || error.code !== MongoCodes.NotImplemented)
      throw error
    if (remover === 'ttl-index') {
      throw new ConfigurationError(
        `retention: this MongoDB server has no TTL indexes (${error.message}); use remover 'sweeper' or 'auto'`,
      )
    }
    return 'sweeper'
  }
}

/**
 * Removes documents whose `expireAt` has passed, a batch at a time: a batch is the first
 * expired documents in `_id` order, deleted by the `_id` range they span with the same filter
 * again (so a document archived anew meanwhile, an operation that ended, stays). A range, not
 * `$in`: FerretDB tests every document of the collection against each id of an `$in`, so a
 * delete by a list of 20,000 ids cost minutes at 100,000 documents; a range costs one read.
 * While archiving is on, an event or operation that is not archived is never removed, whatever
 * its `expireAt` says. Returns how many were removed.
 */
export async function sweepExpired(
  store: EventStore,
  options: { archiving: boolean; batchSize?: number; now?: Date },
): Promise<number> {
  const batchSize = options.batchSize ?? 20_000
  const now = options.now ?? new Date()
  let removed = 0
  for (const collection of expiring(store)) {
    const archived = !notArchived(store).includes(collection.collectionName)
    const expired: Filter<Document & { _id: string }> = {
      expireAt: { $lte: now },
      ...(options.archiving && archived ? { archivedAt: { $exists: true } } : {}),
    }
    for (;;) {
      const ids = (
        await collection
          .find(expired)
          .project<{ _id: string }>({ _id: 1 })
          .sort({ _id: 1 })
          .limit(batchSize)
          .toArray()
      ).map((doc) => doc._id)
      if (ids.length === 0) break
      const range = { _id: { $gte: ids[0]!, $lte: ids.at(-1)! } }
      removed += (await collection.deleteMany({ $and: [range, expired] })).deletedCount
      if (ids.length < batchSize) break
    }
  }
  return removed
}

/** Starts the sweeper when that is the remover; returns the function that stops it. */
export function startSweeper(options: {
  store: EventStore
  archiving: boolean
  retention: RetentionOptions
  logger: Logger
}): () => Promise<void> {
  const { store, archiving, retention, logger } = options
  return runEvery(
    retention.sweepIntervalMs ?? 60_000,
    async () => {
      const removed = await sweepExpired(store, { archiving, batchSize: retention.sweepBatchSize })
      if (removed > 0) logger.debug({ removed }, 'removed expired documents')
    },
    (error) => logger.warn({ err: error }, 'the retention sweeper failed; it tries again'),
  )
}

/** The startup line that says how retention works here. */
export function retentionMessage(remover: Remover, archiving: boolean): string {
  const when = archiving
    ? 'after they are archived to S3 (never before)'
    : 'after they are published (archiving is off)'
  switch (remover) {
    case 'off':
      return 'retention off: events, operations and the processed ledger stay in MongoDB'
    case 'ttl-index':
      return `retention: a TTL index on expireAt removes events and operations ${when}, and processed-ledger entries once JetStream cannot redeliver their event`
    case 'sweeper':
      return `retention: this server has no TTL indexes, so a sweeper removes events and operations ${when}, and processed-ledger entries once JetStream cannot redeliver their event`
  }
}
