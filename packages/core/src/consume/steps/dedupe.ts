import type { RawDelivery } from '../../publish/wire.ts'
import type { DeliveryStep } from '../delivery.ts'
import { ack, next, retry } from '../outcome.ts'
import { retryDelayMs } from '../retry.ts'

/**
 * A delivery the consumer group already finished (its ledger entry is there) is acknowledged
 * without running the handler: a redelivery after the handler finished, a copy sent again, a
 * delivery that waited for an earlier one of the same event in this instance.
 */
export const dedupe: DeliveryStep = async (delivery, group) => {
  const { attempt, raw, msg, logger } = delivery
  const storedAtMs = msg.info.timestampNanos / 1e6
  if (
    !delivery.followsEarlier &&
    !needsLedgerCheck(attempt, raw, storedAtMs, group.settings.duplicateWindowMs)
  )
    return next(delivery)
  try {
    if (await group.ledger.isProcessed(delivery.key))
      return ack(
        'already processed by this consumer group: acknowledged without running the handler',
      )
  } catch (error) {
    // Unknown whether it was processed: retry while attempts are left; past them, the next step
    // gives it up with its ledger key, so a parked letter is checked against the ledger again
    // before it becomes an entry. (An entry of a processed message is harmless: a redrive of it
    // is checked against the ledger and skipped.)
    logger.warn({ err: error }, 'could not read the processed ledger')
    if (attempt <= group.settings.retry.maxFailures)
      return retry(retryDelayMs(attempt, group.settings.retry))
  }
  return next(delivery)
}

/**
 * A first delivery of a message the framework published once cannot have been processed by this
 * group: only a redelivery, a message marked as a possible repeat, or one stored long after it
 * was created (a copy sent again past JetStream's duplicate window) needs the ledger read.
 */
export function needsLedgerCheck(
  attempt: number,
  delivery: Pick<RawDelivery, 'redelivery' | 'createdAt'>,
  storedAtMs: number,
  duplicateWindowMs: number,
): boolean {
  if (attempt > 1 || delivery.redelivery !== undefined) return true
  // Half the window: room for clocks that differ between the publisher and the broker.
  const age = storedAtMs - (delivery.createdAt?.getTime() ?? 0)
  return age > duplicateWindowMs / 2
}
