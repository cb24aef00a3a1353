import type { DeliveryStep } from '../delivery.ts'
import { failedMessage, unreadAttempts } from '../failures.ts'
import { gaveUp, next } from '../outcome.ts'

/**
 * Attempts are JetStream's delivery counts, so deliveries that left no outcome (a crash, an
 * expired ack wait) count as failures: they are recorded before the handler runs again, and a
 * delivery past the last allowed failure gives the message up without running it.
 */
export const lostAttempts: DeliveryStep = async (delivery, group) => {
  const { attempt, logger } = delivery
  const failed = failedMessage(delivery, group.consumerGroup)
  if (attempt > group.settings.retry.maxFailures) {
    // Past the last allowed failure: a crash or an expired ack wait on it, or a DLQ write that
    // failed before.
    const attempts = await group.failures
      .recordLost(failed, attempt)
      .catch(() => unreadAttempts(attempt, failed.streamSequence))
    return gaveUp(attempts, delivery.key)
  }
  if (attempt > 1) {
    await group.failures
      .recordLost(failed, attempt)
      .catch((error: unknown) =>
        logger.warn({ err: error }, 'could not record the attempts before this one'),
      )
  }
  return next(delivery)
}
