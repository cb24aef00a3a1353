import type { Logger } from 'pino'
import type { EventStore } from '../store/event-store.ts'
import { dlqEntryId } from '../store/keys.ts'
import type { ConsumerGroup, Delivery } from './delivery.ts'
import { recordEntry, type DeadLetter } from './dlq.ts'
import type { GiveUp, Settlement } from './outcome.ts'

/**
 * Where given-up messages are written: the DLQ (an entry, and its pending Slack alert), and the
 * parked stream as the last resort. MongoDB and NATS in a service; in memory in tests.
 */
export interface DeadLetterQueue {
  /** Records the entry and raises its alert; rejects when the entry was not written. */
  record(letter: DeadLetter): Promise<void>
  /** Parks a letter the DLQ did not take (see `park.ts`); rejects when NATS did not take it either. */
  park(letter: DeadLetter, cause: unknown): Promise<void>
}

/** The DLQ in the event store, with the parked stream behind it. */
export function storedDeadLetters(
  store: EventStore,
  park: DeadLetterQueue['park'],
  options: { alertsOn: boolean; logger: Logger },
): DeadLetterQueue {
  return { record: (letter) => recordEntry(store, letter, options), park }
}

/**
 * Gives a message up: its entry, else its parked letter (both end in `term`), else nothing took
 * it, and it stays unacknowledged (`nak` after `delayMs`): JetStream delivers it again and that
 * delivery gives it up again. Never only in a log.
 */
export async function writeDeadLetter(
  queue: DeadLetterQueue,
  letter: DeadLetter,
  delayMs: number,
): Promise<Settlement> {
  try {
    await queue.record(letter)
    return { kind: 'deadLettered', letter }
  } catch (cause) {
    try {
      await queue.park(letter, cause)
      return { kind: 'parked', letter, cause }
    } catch (parkError) {
      return { kind: 'unrecorded', letter, cause, parkError, delayMs }
    }
  }
}

/** The DLQ letter of a delivery: the message as it arrived, its ids, and why it was given up. */
export function letterOf(delivery: Delivery, group: ConsumerGroup, outcome: GiveUp): DeadLetter {
  const { msg, raw } = delivery
  return {
    entryId: dlqEntryId(raw.eventId, group.consumerGroup, msg.info.stream, msg.seq),
    ...(outcome.ledgerKey === undefined ? {} : { ledgerKey: outcome.ledgerKey }),
    eventId: raw.eventId,
    subject: raw.subject,
    ...(raw.version === undefined ? {} : { version: raw.version }),
    ...(raw.operationId ? { operationId: raw.operationId } : {}),
    ...(raw.parentId ? { parentId: raw.parentId } : {}),
    ...(raw.redriveOf ? { redriveOf: raw.redriveOf } : {}),
    consumerGroup: group.consumerGroup,
    service: group.service,
    handler: group.handlerName,
    reason: outcome.reason,
    attempts: outcome.attempts,
    trusted: outcome.trusted,
    stream: msg.info.stream,
    streamSequence: msg.seq,
    body: raw.body,
    headerBlock: raw.headerBlock,
    ...(group.ordered && raw.partition
      ? { ordering: { partition: raw.partition.number, partitionKey: raw.partition.key } }
      : {}),
  }
}
