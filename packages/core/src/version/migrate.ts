import type { AnyBulkWriteOperation, Filter } from 'mongodb'
import { readEventData, type EventDefinition } from '../event-definition.ts'
import type { EventRecord, EventStore } from '../store/event-store.ts'

const bulkLimit = 25

export interface MigrateOptions {
  store: EventStore
  /** The current definitions; events of other subjects are left as they are. */
  definitions: readonly EventDefinition<string, unknown>[]
  /** Events read and rewritten per round trip. Default 500. */
  batchSize?: number
  /** Count what would be rewritten, write nothing. */
  dryRun?: boolean
  onProgress?: (progress: { done: number; failed: number; total: number }) => void
}

/** Stored events of one subject and version, and the version they are (or would be) lifted to. */
export interface MigrationGroup {
  subject: string
  from: number
  to: number
  count: number
}

export interface MigrationReport {
  groups: MigrationGroup[]
  total: number
  migrated: number
  /** Events no upcaster or schema accepted: left as stored, with the reason. */
  failed: { id: string; subject: string; version: number; reason: string }[]
  dryRun: boolean
}

/**
 * Rewrites stored events in `events` to their definition's current version, in batches, by
 * `_id` order. Each write is guarded by the stored version, so a concurrent or repeated run
 * never lifts an event twice; a stopped run picks up where it stopped because migrated events
 * no longer match. The S3 archive keeps what was written; readers upcast it.
 */
export async function migrateEvents(options: MigrateOptions): Promise<MigrationReport> {
  const { store, definitions, dryRun = false } = options
  const batchSize = options.batchSize ?? 500
  const bySubject = new Map(definitions.map((d) => [d.subject, d]))
  const report: MigrationReport = { groups: [], total: 0, migrated: 0, failed: [], dryRun }
  if (bySubject.size === 0) return report

  const outdated: Filter<EventRecord> = {
    $or: definitions.map((d) => ({ subject: d.subject, version: { $lt: d.version } })),
  }
  const counts = await store.events
    .aggregate<{ _id: { subject: string; version: number }; count: number }>([
      { $match: outdated },
      { $group: { _id: { subject: '$subject', version: '$version' }, count: { $sum: 1 } } },
    ])
    .toArray()
  report.groups = counts
    .map(({ _id, count }) => ({
      subject: _id.subject,
      from: _id.version,
      to: bySubject.get(_id.subject)!.version,
      count,
    }))
    .sort((a, b) => a.subject.localeCompare(b.subject) || a.from - b.from)
  report.total = report.groups.reduce((sum, g) => sum + g.count, 0)
  if (dryRun || report.total === 0) return report

  let after: string | undefined
  for (;;) {
    const batch = await store.events
      .find(after === undefined ? outdated : { $and: [outdated, { _id: { $gt: after } }] })
      .sort({ _id: 1 })
      .limit(batchSize)
      .toArray()
    if (batch.length === 0) break
    after = batch.at(-1)!._id
    const writes: AnyBulkWriteOperation<EventRecord>[] = []
    for (const event of batch) {
      const definition = bySubject.get(event.subject)!
      try {
        const data = await readEventData(definition, event.data, event.version)
        writes.push({
          updateOne: {
            filter: { _id: event._id, version: event.version },
            update: {
              $set: {
                data,
                version: definition.version,
                migratedAt: new Date(),
                migratedFrom: event.migratedFrom ?? event.version,
              },
            },
          },
        })
      } catch (error) {
        report.failed.push({
          id: event._id,
          subject: event.subject,
          version: event.version,
          reason: (error as Error).message,
        })
      }
    }
    // Each event has its own data, so one update each, in bulks small enough for FerretDB v1,
    // which stops answering on a bulkWrite of about 50 updates.
    for (let i = 0; i < writes.length; i += bulkLimit) {
      const result = await store.events.bulkWrite(writes.slice(i, i + bulkLimit), {
        ordered: false,
      })
      report.migrated += result.modifiedCount
    }
    options.onProgress?.({
      done: report.migrated,
      failed: report.failed.length,
      total: report.total,
    })
  }
  return report
}
