import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Collection, Document } from 'mongodb'
import type { EventStore } from '../store/event-store.ts'
import { revocationsCollection } from '../admin/revocations.ts'
import { idsWithin } from '../store/ids-within.ts'
import { currentFormat } from './formats.ts'
import { insertOnlyLease, type LeaseGrant } from './lease.ts'

/**
 * Moves the framework's own stored records to the current format (`version/formats.ts`), so a
 * later version, which reads only this format and the next, finds nothing older. Not the events'
 * data: that is `migrateEvents`, by the events' own versions.
 *
 * What moves from format 1 (records without `format`) to format 2:
 * - every record gets `format: 2`;
 * - `events`, `operations` and `failures` get `archived` (true when they carry `archivedAt`): the
 *   archiver finds its work by that equality (docs/reads.md);
 * - processed-ledger entries get their event's `operationId`, so the chain finds them by it.
 *   Entries whose event is gone from MongoDB (retention) or whose key is hashed keep none: the
 *   chain of an operation that old shows its events without the groups that handled them.
 */
export interface FrameworkMigrationOptions {
  store: EventStore
  /** Records read and rewritten per round trip. Default 500. */
  batchSize?: number
  /** Count what would move, write nothing. */
  dryRun?: boolean
  /**
   * One migrator at a time: a run holds an insert-only lease, taken again before it runs out.
   * A run that finds another's lease stops at once and says whose (`heldBy`). Default 30 s.
   */
  leaseMs?: number
  /** Who this run is, in the lease (and in another run's refusal). Default host, pid, random. */
  holder?: string
  onProgress?: (progress: { collection: string; done: number; total: number }) => void
}

export interface FrameworkMigrationReport {
  /** Records in an older format, by collection (before this run wrote anything). */
  outdated: { collection: string; count: number }[]
  total: number
  migrated: number
  dryRun: boolean
  /** Set when another migrator holds the lease: this run wrote nothing. */
  heldBy?: { holder: string; until: Date }
}

/** A framework record as the migration sees it: ids are strings in every framework collection. */
type Stored = Document & { _id: string }

/** How a collection's record of format 1 becomes format 2: what to `$set` besides the format. */
type Fill = (docs: Document[], store: EventStore) => Promise<Map<Document, Document>>

const noFill: Fill = (docs) => Promise.resolve(new Map(docs.map((doc) => [doc, {}])))

/** `archived` from `archivedAt`, where the record has no `archived` yet. */
const archivedFill: Fill = (docs) =>
  Promise.resolve(
    new Map(
      docs.map((doc) => [
        doc,
        doc.archived === undefined ? { archived: doc.archivedAt !== undefined } : {},
      ]),
    ),
  )

/** A ledger entry's `operationId`, read from its event (`<eventId>/<consumer group>` keys). */
const ledgerFill: Fill = async (docs, store) => {
  const eventIdOf = (doc: Document) => {
    const id = String(doc._id)
    return doc.operationId === undefined && !id.startsWith('h:') && id.includes('/')
      ? id.slice(0, id.indexOf('/'))
      : undefined
  }
  const eventIds = [...new Set(docs.map(eventIdOf).filter((id) => id !== undefined))]
  const operationOf = new Map<string, string>()
  if (eventIds.length > 0) {
    for (const events of [store.events, store.outbox]) {
      const found = await events
        .find({ _id: idsWithin(eventIds) }, { projection: { operationId: 1 } })
        .toArray()
      for (const event of found) operationOf.set(event._id, event.operationId)
    }
  }
  return new Map(
    docs.map((doc) => {
      const operationId = operationOf.get(eventIdOf(doc) ?? '')
      return [doc, operationId === undefined ? {} : { operationId }]
    }),
  )
}

/** The framework's collections in the event store, and what each needs besides the format. */
function frameworkCollections(store: EventStore): { collection: Collection<Stored>; fill: Fill }[] {
  const db = store.db
  const all: [Collection<Stored>, Fill][] = [
    [store.operations as never, archivedFill],
    [store.events as never, archivedFill],
    [store.failures as never, archivedFill],
    [store.processed as never, ledgerFill],
    [store.outbox as never, noFill],
    [store.dlq as never, noFill],
    [store.dlqActions as never, noFill],
    [store.dlqAlerts as never, noFill],
    [store.dlqAlertClaims as never, noFill],
    [store.changes as never, noFill],
    [store.eventStreams as never, noFill],
    [store.streamSnapshots as never, noFill],
    [store.operationEnds as never, noFill],
    [store.archiveBatches as never, noFill],
    [store.archiveClaims as never, noFill],
    [store.frameworkKeys as never, noFill],
    [db.collection<Stored>(revocationsCollection), noFill],
    // The service kit's (its gateway writes them in the event store's database).
    [db.collection<Stored>('idempotency_keys'), noFill],
  ]
  return all.map(([collection, fill]) => ({ collection, fill }))
}

const outdated = { format: { $exists: false } }

/**
 * Moves every framework record to the current format, a batch at a time. Each batch's updates
 * are guarded by the missing format, so a repeated run, or a record written meanwhile by this
 * version, is never rewritten; a run stopped midway (even killed) leaves records either moved or
 * not, and the next run moves what is left, once the stopped run's lease has run out.
 */
export async function migrateFramework(
  options: FrameworkMigrationOptions,
): Promise<FrameworkMigrationReport> {
  const { store, dryRun = false } = options
  const batchSize = options.batchSize ?? 500
  const leaseMs = options.leaseMs ?? 30_000
  const collections = frameworkCollections(store)

  const counts = await Promise.all(
    collections.map(async ({ collection }) => ({
      collection: collection.collectionName,
      count: await collection.countDocuments(outdated),
    })),
  )
  const report: FrameworkMigrationReport = {
    outdated: counts.filter((c) => c.count > 0),
    total: counts.reduce((sum, c) => sum + c.count, 0),
    migrated: 0,
    dryRun,
  }
  if (dryRun || report.total === 0) return report

  const lease = insertOnlyLease(
    store.db.collection<LeaseGrant>('framework_leases'),
    'framework-migration',
    options.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    leaseMs,
  )
  let held = await lease.take()
  if (!held.held) return { ...report, heldBy: { holder: held.holder, until: held.until } }
  const holdOn = async () => {
    if (!held.held || held.until.getTime() - Date.now() > leaseMs / 2) return
    held = await lease.take()
    if (!held.held)
      throw new Error(
        `the framework migration lost its lease to ${held.holder} (a batch took longer than ${leaseMs} ms); run it again`,
      )
  }
  try {
    for (const { collection, fill } of collections) {
      const total = counts.find((c) => c.collection === collection.collectionName)!.count
      if (total === 0) continue
      let done = 0
      let after: string | undefined
      for (;;) {
        await holdOn()
        // In `_id` order from the last batch: on MongoDB the `_id` index finds each batch
        // without passing the records moved before it again.
        const batch = await collection
          .find(after === undefined ? outdated : { ...outdated, _id: { $gt: after } })
          .sort({ _id: 1 })
          .limit(batchSize)
          .toArray()
        if (batch.length === 0) break
        after = batch.at(-1)!._id
        const moved = await rewrite(collection, await fill(batch, store))
        done += moved
        report.migrated += moved
        options.onProgress?.({ collection: collection.collectionName, done, total })
      }
    }
  } finally {
    await lease.release()
  }
  return report
}

/**
 * One update per distinct `$set` in the batch (most batches need one), guarded by the missing
 * format. Returns how many records it moved.
 */
async function rewrite(
  collection: Collection<Stored>,
  fills: Map<Document, Document>,
): Promise<number> {
  const groups = new Map<string, { set: Document; ids: string[] }>()
  for (const [doc, set] of fills) {
    const key = JSON.stringify(set)
    const group = groups.get(key) ?? { set, ids: [] }
    group.ids.push(String(doc._id))
    groups.set(key, group)
  }
  let moved = 0
  for (const { set, ids } of groups.values()) {
    const result = await collection.updateMany(
      { ...outdated, _id: idsWithin(ids) },
      { $set: { ...set, format: currentFormat } },
    )
    moved += result.modifiedCount
  }
  return moved
}
