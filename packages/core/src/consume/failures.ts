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
  const entry = attemptError(failed.attempt, failed.error)
  const record = await store.failures.findOneAndUpdate(
    { _id: failed.key },
    {
      $inc: { failures: 1 },
      $push: { attempts: entry },
      $set: { lastFailedAt: entry.at },
      $setOnInsert: {
        eventId: failed.eventId,
        consumerGroup: failed.consumerGroup,
        subject: failed.subject,
        ...(failed.operationId ? { operationId: failed.operationId } : {}),
        firstFailedAt: entry.at,
      },
    },
    { upsert: true, returnDocument: 'after' },
  )
  if (!record) throw new Error(`failure record ${failed.key} was not returned after its upsert`)
  return record
}
