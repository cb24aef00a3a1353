import type { Logger } from 'pino'
import type { Outbox } from '../publish/outbox.ts'
import type { EventRecord, EventStore } from '../store/event-store.ts'
import type { IndexDeclaration } from '../store/indexes.ts'
import { appendHolder, appendOf, claimAppend } from '../event-sourcing/append.ts'
import { streamAppendId } from '../store/keys.ts'
import { claimPosition, stateChangeOf } from './change.ts'
import type { EntityRegistry } from './entity-state.ts'

/** Settling's read: one service's older change records in the (small) outbox. */
export const settleIndexes: readonly IndexDeclaration[] = [
  {
    collection: 'outbox',
    keys: { 'change.service': 1, createdAt: 1 },
    serves: 'settling: a service’s older state changes',
    onFerretDb: 'scan',
  },
]

export interface SettleOptions {
  store: EventStore
  outbox: Outbox
  service: string
  entities: EntityRegistry
  /** A stream with a change younger than this is left alone: that change is still being made. */
  minAgeMs: number
  /** Changes looked at per round. Default 500. */
  batchSize?: number
  logger: Logger
}

/**
 * Reconciliation of state changes, run by the relay on this service's older change records in
 * the outbox (never another service's: it could not apply them). For each entity stream that no
 * change is being made on right now, in position order:
 *
 * - a change its process left unfinished (not yet published) is claimed (or dropped, when
 *   another change took its position: nothing of it was applied or published), applied and
 *   published; it is settled on a later round;
 * - a published change is applied once more and removed from the outbox: on servers where two
 *   concurrent updates of one document are not atomic (FerretDB), the later position's state
 *   may have been overwritten by an earlier one; applying it again after the stream went quiet
 *   puts the state back on the latest position.
 */
export function changeSettler({
  store,
  outbox,
  service,
  entities,
  minAgeMs,
  batchSize = 500,
  logger,
}: SettleOptions) {
  const unknownTypes = new Set<string>()
  // An entity's state changes and an event-sourced stream's appends are claimed apart.
  const streamOf = ({ change }: EventRecord) =>
    `${change!.append ? 'stream' : 'state'} ${change!.type}/${change!.key}`

  return async function settle(): Promise<void> {
    const cutoff = new Date(Date.now() - minAgeMs)
    const mine = await store.outbox
      .find({ 'change.service': service, createdAt: { $lt: cutoff } })
      .sort({ createdAt: 1 })
      .limit(batchSize)
      .toArray()
    if (mine.length === 0) return
    const busy = new Set(
      (
        await store.outbox
          .find(
            { 'change.service': service, createdAt: { $gte: cutoff } },
            { projection: { 'change.type': 1, 'change.key': 1, 'change.append': 1 } },
          )
          .toArray()
      ).map(streamOf),
    )
    const streams = new Map<string, EventRecord[]>()
    for (const record of mine) {
      const stream = streamOf(record)
      if (busy.has(stream)) continue
      const changes = streams.get(stream)
      if (changes) changes.push(record)
      else streams.set(stream, [record])
    }
    const counts = { finished: 0, settled: 0, dropped: 0, waiting: 0 }
    for (const changes of streams.values()) {
      if (changes[0]!.change!.append) {
        await settleAppends(changes, counts)
        continue
      }
      const entity = entities.get(changes[0]!.change!.type)
      if (!entity) {
        warnUnknown(changes[0]!.change!.type)
        continue
      }
      try {
        for (const record of changes.sort((a, b) => a.change!.position - b.change!.position)) {
          if (!record.publishedAt && !(await claimPosition(store, record))) {
            await store.outbox.deleteOne({ _id: record._id })
            counts.dropped++
            continue
          }
          await entity.apply(stateChangeOf(record))
          if (record.publishedAt) {
            await store.outbox.deleteOne({ _id: record._id })
            counts.settled++
          } else if ((await outbox.publishRecorded([record], 'relay'))[0]) counts.waiting++
          else counts.finished++
        }
      } catch (error) {
        // This stream waits for the next round; the others, and the relay's events, go on.
        counts.waiting++
        logger.warn(
          { err: error, stream: streamOf(changes[0]!) },
          'could not finish or settle a state change; trying again',
        )
      }
    }
    if (counts.finished + counts.dropped + counts.waiting > 0)
      logger.info(counts, 'reconciliation finished state changes a process left unfinished')
  }

  /**
   * An event-sourced stream's unfinished appends, in position order: each is claimed (when all
   * its events are held: a writer that could not hold them all removed what it held and never
   * claims) and published, or dropped when its position is another append's. Its events leave
   * the outbox once published, as any event does.
   */
  async function settleAppends(
    records: EventRecord[],
    counts: { finished: number; dropped: number; waiting: number },
  ) {
    const appends = new Map<number, EventRecord[]>()
    for (const record of records.sort((a, b) => a.change!.position - b.change!.position)) {
      const after = record.change!.append!.after
      appends.set(after, [...(appends.get(after) ?? []), record])
    }
    for (const [after, append] of appends) {
      const { type, key, append: mark } = append[0]!.change!
      const stream = `${type}:${key}`
      try {
        // Whole: claim it (finds its own claim if it landed). In part: only a claim that
        // landed before the rest was published lets it go on.
        const ours =
          append.length === mark!.count
            ? await claimAppend(store, appendOf(append))
            : (await appendHolder(store, streamAppendId(stream, after), append[0]!._id)) === 'ours'
        if (!ours) {
          await store.outbox.deleteMany({ _id: { $in: append.map((r) => r._id) } })
          counts.dropped += append.length
          continue
        }
        const failed = (await outbox.publishRecorded(append, 'relay')).filter(Boolean).length
        counts.waiting += failed
        counts.finished += append.length - failed
      } catch (error) {
        counts.waiting += append.length
        logger.warn(
          { err: error, stream, position: after },
          'could not finish an append to an event-sourced stream; trying again',
        )
        return // later appends of the stream wait for this one
      }
    }
  }

  function warnUnknown(type: string) {
    if (unknownTypes.has(type)) return
    unknownTypes.add(type)
    logger.warn(
      { type },
      `state changes of entity type "${type}" wait in the outbox: this instance does not define it (define it with service.entityState before start)`,
    )
  }
}
