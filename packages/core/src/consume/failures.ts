import type { AttemptError, EventStore, FailureRecord } from '../store/event-store.ts'
import { storableText } from '../store/keys.ts'
import type { Delivery } from './delivery.ts'
import { currentFormat } from '../version/formats.ts'

/**
 * Where failed deliveries are counted: one record per (event, consumer group) in MongoDB, an
 * in-memory one in tests (`@event-driven/core/testing`). Both resolve with this message's
 * attempts (its stream position), in order.
 */
export interface FailureLog {
  /** Records one failed delivery. */
  record(failed: FailedDelivery): Promise<AttemptError[]>
  /** Records the deliveries before `attempt` that left no outcome (see `lostAttempts`). */
  recordLost(delivery: FailedMessage, attempt: number): Promise<AttemptError[]>
}

/** The failure log in the event store's `failures` collection. */
export function failureLog(store: EventStore): FailureLog {
  return {
    record: async (failed) => attemptsOf(await recordFailure(store, failed), failed.streamSequence),
    recordLost: (delivery, attempt) => recordLostAttempts(store, delivery, attempt),
  }
}

/** What a failure record is keyed and labelled with. */
export type FailedMessage = Omit<FailedDelivery, 'attempt' | 'error'>

export interface FailedDelivery {
  key: string
  eventId: string
  consumerGroup: string
  subject: string
  operationId?: string
  /** The stream position of the message: each message (an original, a redrive) counts its own attempts. */
  streamSequence: number
  /** JetStream's delivery count, so attempts lost to a crash count too. */
  attempt: number
  error: unknown
  /** When the failed run started. */
  startedAt?: Date
}

export function attemptError(
  attempt: number,
  error: unknown,
  streamSequence?: number,
  startedAt?: Date,
): AttemptError {
  const failure = error instanceof Error ? error : new Error(String(error))
  return {
    attempt,
    ...(streamSequence === undefined ? {} : { streamSequence }),
    message: storableText(failure.message),
    ...(failure.stack ? { stack: storableText(failure.stack) } : {}),
    ...(startedAt ? { startedAt } : {}),
    at: new Date(),
  }
}

/** Records one failed delivery atomically (upsert) and returns the record with every attempt. */
async function recordFailure(store: EventStore, failed: FailedDelivery): Promise<FailureRecord> {
  const record = await appendAttempts(store, failed, [
    attemptError(failed.attempt, failed.error, failed.streamSequence, failed.startedAt),
  ])
  if (!record) throw new Error(`failure record ${failed.key} was not returned after its upsert`)
  return record
}

/** Adds failed attempts to the (event, consumer group) record in one atomic upsert. */
function appendAttempts(
  store: EventStore,
  delivery: Omit<FailedDelivery, 'attempt' | 'error' | 'streamSequence'>,
  attempts: AttemptError[],
): Promise<FailureRecord | null> {
  return store.failures.findOneAndUpdate(
    { _id: delivery.key },
    {
      $inc: { failures: attempts.length },
      $push: { attempts: { $each: attempts } },
      // Written in full again by this version: the record is in its format now.
      $set: { lastFailedAt: attempts.at(-1)!.at, archived: false, format: currentFormat },
      // Failed again: the record is copied to the archive again.
      $unset: { archivedAt: '' },
      $setOnInsert: {
        eventId: delivery.eventId,
        consumerGroup: delivery.consumerGroup,
        subject: delivery.subject,
        ...(delivery.operationId ? { operationId: delivery.operationId } : {}),
        firstFailedAt: attempts[0]!.at,
      },
    },
    { upsert: true, returnDocument: 'after' },
  )
}

/** What a delivery that left no outcome is recorded as. */
export function lostAttemptMessage(attempt: number): string {
  return `no outcome was recorded for delivery ${attempt} (the process stopped or the ack wait passed)`
}

/** The attempts recorded for one message (its stream position) in a failure record. */
export function attemptsOf(record: FailureRecord | null, streamSequence: number): AttemptError[] {
  // Records written before attempts carried their message count as the first message's.
  return (record?.attempts ?? []).filter(
    (a) => (a.streamSequence ?? streamSequence) === streamSequence,
  )
}

/**
 * On a redelivery: deliveries of this message before this one that recorded neither success nor
 * failure (a crashed process, an expired ack wait) count as failures, so they are written as
 * such. Returns this message's attempts, in order.
 */
async function recordLostAttempts(
  store: EventStore,
  delivery: FailedMessage,
  attempt: number,
): Promise<AttemptError[]> {
  const record = await store.failures.findOne({ _id: delivery.key })
  const recorded = attemptsOf(record, delivery.streamSequence)
  const lost = lostAttempts(recorded, attempt, delivery.streamSequence)
  if (lost.length === 0) return recorded
  const updated = await appendAttempts(store, delivery, lost)
  return attemptsOf(updated, delivery.streamSequence)
}

/** The deliveries before `attempt` that `recorded` has no outcome of, as failures. */
export function lostAttempts(
  recorded: AttemptError[],
  attempt: number,
  streamSequence: number,
): AttemptError[] {
  const numbers = new Set(recorded.map((a) => a.attempt))
  return Array.from({ length: attempt - 1 }, (_, i) => i + 1)
    .filter((n) => !numbers.has(n))
    .map((n) => attemptError(n, new Error(lostAttemptMessage(n)), streamSequence))
}

/** Placeholders for attempts whose outcome could not be read (MongoDB did not answer). */
export function unreadAttempts(attempt: number, streamSequence: number): AttemptError[] {
  return Array.from({ length: attempt - 1 }, (_, i) =>
    attemptError(
      i + 1,
      new Error(`attempt ${i + 1}: its outcome could not be read (MongoDB did not answer)`),
      streamSequence,
    ),
  )
}

/** What the failure record of a delivery is keyed and labelled with. */
export function failedMessage(
  delivery: Pick<Delivery, 'key' | 'raw' | 'msg'>,
  consumerGroup: string,
): FailedMessage {
  return {
    key: delivery.key,
    eventId: delivery.raw.eventId,
    consumerGroup,
    subject: delivery.raw.subject,
    operationId: delivery.raw.operationId,
    streamSequence: delivery.msg.seq,
  }
}
