import type { JetStreamClient } from '@nats-io/jetstream'
import type { Logger } from 'pino'
import { PublishError, RecordError } from '../errors.ts'
import { groupCommit } from '../group-commit.ts'
import type { ServiceMetrics } from '../observe/metrics.ts'
import { publishSpan } from '../observe/spans.ts'
import type { ServiceTracing } from '../observe/tracing.ts'
import type { EventRecord, EventStore } from '../store/event-store.ts'
import { insertNew } from '../store/insert-new.ts'
import { encodeEvent, wireSubject } from './wire.ts'
import { publishSigned, type MessageSigner } from './signature.ts'
import {
  currentFormat,
  FormatError,
  inCurrentFormat,
  type WritableFormat,
} from '../version/formats.ts'

/**
 * The outbox: an event is recorded (in `outbox`) before it is published with
 * `Nats-Msg-Id = eventId`, then moved to `events` with `publishedAt` (in the background: `publish`
 * resolves once JetStream has the event; `drain()` waits for the moves). The outbox holds only
 * events not yet published, so it stays small; the hot path inserts, and deletes by `_id`, and
 * never updates the large `events` collection. Concurrent publishes share each write.
 */
export interface Outbox {
  /**
   * Records and publishes; marks published soon after. Rejects with RecordError or PublishError.
   * `parentCreatedAt`: when the event whose handler emits this one was recorded (for metrics).
   */
  publish(record: EventRecord, parentCreatedAt?: Date): Promise<void>
  /**
   * Records an event without publishing it: the step of a state change that comes before its
   * claim (`state/change.ts`). Resolves false when a record with its id was there already.
   * Rejects with RecordError.
   */
  hold(record: EventRecord): Promise<boolean>
  /** Publishes already-recorded events (the relay's job) and moves them to `events`. */
  publishRecorded(records: EventRecord[], redelivery?: 'relay'): Promise<(undefined | Error)[]>
  drain(): Promise<void>
}

export interface OutboxOptions {
  store: EventStore
  js: JetStreamClient
  signer: MessageSigner
  subjectPrefix: string
  publishTimeoutMs: number
  logger: Logger
  /** Retention without archiving: events may be removed this long after they are published. */
  expireAfterMs?: number
  /** The format of the messages it sends. Default the current one. */
  messageFormat?: WritableFormat
  /** Told of each event JetStream confirmed; absent when metrics are off. */
  metrics?: ServiceMetrics
  /** Starts a span for each publish by the relay (a first publish has its publisher's); absent when off. */
  tracing?: ServiceTracing
  /**
   * Whether the stream partitions keyed events (its subject transform is the framework's, see
   * `streams.ts`). Without it a keyed event is published on its unkeyed subject: handled, in no
   * particular order, rather than stored where no consumer group looks.
   */
  partitioned: boolean
}

export function createOutbox(options: OutboxOptions): Outbox {
  const {
    store,
    js,
    signer,
    subjectPrefix,
    publishTimeoutMs,
    logger,
    expireAfterMs,
    metrics,
    tracing,
    partitioned,
  } = options
  const messageFormat = options.messageFormat ?? currentFormat

  const mover = groupCommit<EventRecord, undefined>(async (records) => {
    try {
      // "Already in events" is fine: a retried handler re-emitted it, or the relay moved it first.
      const { failed } = await insertNew(
        store.events,
        records.map((record) => inCurrentFormat(asEvent(record))),
      )
      const moved = records.filter((_, i) => !failed.has(i))
      // A state change stays (marked published) until reconciliation settles it; an append's
      // events have no state to apply again, their stream holds them.
      const [changes, events] = partition(
        moved,
        (r) => r.change !== undefined && r.change.append === undefined,
      )
      if (events.length > 0)
        await store.outbox.deleteMany({ _id: { $in: events.map((r) => r._id) } })
      if (changes.length > 0)
        await store.outbox.updateMany(
          { _id: { $in: changes.map((r) => r._id) } },
          { $set: { publishedAt: changes[0]!.publishedAt! } },
        )
    } catch (error) {
      // Published, but still in the outbox: the relay finishes the move. Nothing is lost.
      logger.warn(
        { err: error, count: records.length },
        'published events wait in the outbox for the relay',
      )
    }
    return records.map(() => undefined)
  })

  // What metrics are told beside a record: its parent's time, and whether it is a retry's copy.
  const parents = new WeakMap<EventRecord, Date>()

  const publishRecorded = async (
    records: EventRecord[],
    redelivery?: 'relay',
    copies?: ReadonlySet<EventRecord>,
  ): Promise<(undefined | Error)[]> => {
    const acks = await Promise.allSettled(
      // Async, so a record this version cannot send (a newer format) fails alone.
      records.map(async (record) => {
        const subject = wireSubject(
          subjectPrefix,
          record.subject,
          partitioned ? record.partitionKey : undefined,
        )
        // The relay's late publish is a span of the event's trace; consumers belong to it.
        const span =
          redelivery === 'relay'
            ? tracing?.start(
                publishSpan(
                  { ...record, id: record._id, wireSubject: subject },
                  record.trace,
                  'relay',
                ),
              )
            : undefined
        try {
          const { payload, headers } = encodeEvent(
            span?.context ? { ...record, trace: span.context } : record,
            redelivery ?? record.redelivery,
            messageFormat,
          )
          const ack = await publishSigned(js, signer, subject, payload, {
            msgID: record._id,
            headers,
            timeout: publishTimeoutMs,
          })
          span?.end()
          return ack
        } catch (error) {
          span?.end(error)
          throw error
        }
      }),
    )
    const publishedAt = new Date()
    // The move is bookkeeping: the caller's event is safe once JetStream has it, so it is not
    // kept waiting, and the next flush starts at once. Moves are grouped on their own.
    const expireAt =
      expireAfterMs === undefined ? undefined : new Date(publishedAt.getTime() + expireAfterMs)
    for (const record of records.filter((_, i) => acks[i]!.status === 'fulfilled')) {
      void mover
        .add({ ...record, publishedAt, ...(expireAt ? { expireAt } : {}) })
        .catch(() => undefined)
      if (!metrics) continue
      const parentCreatedAt = parents.get(record)
      metrics.published({
        subject: record.subject,
        via: redelivery ?? (record.redelivery === 'retry' ? 'retry' : 'publish'),
        latencyMs: publishedAt.getTime() - record.createdAt.getTime(),
        publishedBy: record.publishedBy,
        createdAt: record.createdAt,
        ...(parentCreatedAt ? { parentCreatedAt } : {}),
        ...(copies?.has(record) ? { copy: true as const } : {}),
      })
    }
    return acks.map((ack, i) => {
      if (ack.status === 'fulfilled') return undefined
      // Never sent: a record in a format this version does not read waits for one that does.
      if (ack.reason instanceof FormatError) return ack.reason
      const record = records[i]!
      const reason = ack.reason instanceof Error ? ack.reason.message : String(ack.reason)
      return new PublishError(
        `event ${record._id} (${record.subject}) is recorded but NATS did not confirm it (${reason}); the relay publishes it when NATS answers`,
        record._id,
        { cause: ack.reason },
      )
    })
  }

  const writer = groupCommit<EventRecord, undefined>(async (records) => {
    let toPublish: (EventRecord | RecordError)[]
    try {
      toPublish = await record(records)
    } catch (error) {
      const reason = new RecordError(
        `MongoDB did not record ${records.length} event(s) (${(error as Error).message}); nothing was published`,
        { cause: error },
      )
      return records.map(() => reason)
    }
    const recorded = toPublish.filter((r): r is EventRecord => !(r instanceof RecordError))
    // A record other than the one handed in was recorded before: this is a retry's copy of it.
    const handedIn = metrics && records.some((r) => r.redelivery === 'retry') && new Set(records)
    const copies = handedIn ? new Set(recorded.filter((r) => !handedIn.has(r))) : undefined
    const published = await publishRecorded(recorded, undefined, copies)
    let next = 0
    return toPublish.map((r) => (r instanceof RecordError ? r : published[next++]))
  })

  /**
   * Records new events in the outbox, in one insert. An event that may have been recorded before
   * (a retried handler re-emitting a child: same id) is looked up first, and what was recorded
   * then is what gets published, so every copy of an event carries the same content.
   */
  const record = async (records: EventRecord[]): Promise<(EventRecord | RecordError)[]> => {
    const earlier = records.some((r) => r.redelivery === 'retry')
      ? await Promise.all(
          records.map((r) =>
            r.redelivery === 'retry' ? recordedBefore(r) : Promise.resolve(null),
          ),
        )
      : []
    const fresh = records.filter((_, i) => !earlier[i])
    const { failed, existing } = await insertNew(store.outbox, fresh.map(inCurrentFormat))
    const results: (EventRecord | RecordError)[] = []
    let n = 0
    for (const [i, r] of records.entries()) {
      const before = earlier[i]
      if (before) {
        results.push(before)
        continue
      }
      const index = n++
      if (failed.has(index))
        results.push(
          new RecordError(`MongoDB did not record event ${r._id}; nothing was published`),
        )
      // Recorded meanwhile by a concurrent attempt of the same handler.
      else if (existing.has(index)) results.push((await recordedBefore(r)) ?? r)
      else results.push(r)
    }
    return results
  }

  /** The record stored under this id (outbox, else events), with this publish's marker; null if none. */
  const recordedBefore = async (record: EventRecord): Promise<EventRecord | null> => {
    const stored =
      (await store.outbox.findOne({ _id: record._id })) ??
      (await store.events.findOne({ _id: record._id }))
    if (!stored) return null
    if (JSON.stringify(stored.data) !== JSON.stringify(record.data))
      logger.warn(
        { eventId: record._id, subject: record.subject },
        'a retried handler emitted different data for an event it had emitted before; the data recorded first was published (handlers should emit the same events on every attempt)',
      )
    return { ...stored, ...(record.redelivery ? { redelivery: record.redelivery } : {}) }
  }

  const holder = groupCommit<EventRecord, boolean>(async (records) => {
    let failed: Set<number>
    let existing: Set<number>
    try {
      ;({ failed, existing } = await insertNew(store.outbox, records.map(inCurrentFormat)))
    } catch (error) {
      const reason = new RecordError(
        `MongoDB did not record ${records.length} event(s) (${(error as Error).message}); nothing changed`,
        { cause: error },
      )
      return records.map(() => reason)
    }
    return records.map((r, i) =>
      failed.has(i)
        ? new RecordError(`MongoDB did not record event ${r._id}; nothing changed`)
        : !existing.has(i),
    )
  })

  return {
    publish: (record, parentCreatedAt) => {
      if (metrics && parentCreatedAt) parents.set(record, parentCreatedAt)
      return writer.add(record)
    },
    hold: (record) => holder.add(record),
    publishRecorded: (records, redelivery) => publishRecorded(records, redelivery),
    drain: async () => {
      await holder.drain()
      await writer.drain()
      await mover.drain()
    },
  }
}

/**
 * The record as `events` keeps it: not yet archived, and without a state change's state (it may
 * hold secrets).
 */
function asEvent(record: EventRecord): EventRecord {
  if (record.change?.state === undefined) return { ...record, archived: false }
  const mark = { ...record.change }
  delete mark.state
  return { ...record, change: mark, archived: false }
}

function partition<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))]
}
