import type { AttemptError } from '../../store/event-store.ts'
import type { DeliveryStep } from '../delivery.ts'
import { failedMessage } from '../failures.ts'
import { gaveUp, retry } from '../outcome.ts'
import { retryDelayMs } from '../retry.ts'

/**
 * A failed run is recorded (one atomic upsert), then retried by JetStream with exponential
 * backoff and jitter (`nak(delay)`), or given up on the last allowed failure.
 */
export const recordFailure: DeliveryStep = async (delivery, group) => {
  const { failure, attempt, logger } = delivery
  if (!failure) throw new Error('recordFailure comes after a handler that failed')
  const { error, startedAt } = failure
  const policy = group.settings.retry
  const failed = failedMessage(delivery, group.consumerGroup)
  let attempts: AttemptError[]
  try {
    attempts = await group.failures.record({ ...failed, attempt, error, startedAt })
  } catch (recordError) {
    // Without MongoDB the failure cannot be recorded; JetStream's count still advances, and the
    // delivery after the last allowed one gives the message up (to the DLQ, or parked).
    logger.error({ err: recordError }, 'could not record the failure; retrying the delivery')
    return retry(retryDelayMs(attempt, policy))
  }
  const message = error instanceof Error ? error.message : String(error)
  logger.warn(
    { err: error },
    `Failed ${attempts.length} times, consumer group: ${group.consumerGroup}, event: ${failed.eventId}, error: ${message}`,
  )
  if (attempt >= policy.maxFailures) return gaveUp(attempts, delivery.key)
  return retry(retryDelayMs(attempt, policy))
}
