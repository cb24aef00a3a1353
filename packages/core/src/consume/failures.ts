import type { AttemptError, EventStore, FailureRecord } from '../store/event-store.ts'

export interface FailedDelivery {
  key: string
  eventId: string
  consumerGroup: string
  subject: string
  operationId?: string
  /** JetStream's delivery count, so attempts lost to a crash count too. */
  attempt: number
  error: unknown
}

export function attemptError(attempt: number, error: unknown): AttemptError {
  const failure = error instanceof Error ? error : new Error(String(error))
  return { attempt, message: failure.message, stack: failure.stack, at: new Date() }
}

/** Records one failed delivery atomically (upsert) and returns the record with every attempt. */
export async function recordFailure(
  store: EventStore,
  failed: FailedDelivery,
): Promise<FailureRecord> {
  const record = await appendAttempts(store, failed, [attemptError(failed.attempt, failed.error)])
  if (!record) throw new Error(`failure record ${failed.key} was not returned after its upsert`)
  return record
}

/** Adds failed attempts to the (event, consumer group) record in one atomic upsert. */
function appendAttempts(
  store: EventStore,
  delivery: Omit<FailedDelivery, 'attempt' | 'error'>,
  attempts: AttemptError[],
): Promise<FailureRecord | null> {
  return store.failures.findOneAndUpdate(
    { _id: delivery.key },
    {
      $inc: { failures: attempts.length },
      $push: { attempts: { $each: attempts } },
      $set: { lastFailedAt: attempts.at(-1)!.at },
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

/**
 * On a redelivery: deliveries before this one that recorded neither success nor failure (a
 * crashed process, an expired ack wait) count as failures, so they are written as such.
 * Returns the failure record (null when there is none).
 */
export async function recordLostAttempts(
  store: EventStore,
  delivery: Omit<FailedDelivery, 'attempt' | 'error'>,
  attempt: number,
): Promise<FailureRecord | null> {
  const record = await store.failures.findOne({ _id: delivery.key })
  const recorded = new Set(record?.attempts.map((a) => a.attempt))
  const lost = Array.from({ length: attempt - 1 }, (_, i) => i + 1)
    .filter((n) => !recorded.has(n))
    .map((n) => attemptError(n, new Error(lostAttemptMessage(n))))
  if (lost.length === 0) return record
  return appendAttempts(store, delivery, lost)
}
