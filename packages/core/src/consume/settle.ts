import type { JsMsg } from '@nats-io/jetstream'
import type { Logger } from 'pino'
import type { Settlement } from './outcome.ts'

/**
 * The one place a delivery is settled with JetStream: `ack` when done, `nak` with a delay to be
 * delivered again, `term` once the message is recorded as given up. Each settlement that ends a
 * message's life says so in the log.
 */
export function settle(msg: JsMsg, settlement: Settlement, logger: Logger): void {
  switch (settlement.kind) {
    case 'ack':
      msg.ack()
      logger.debug(settlement.note)
      return
    case 'retry':
      msg.nak(settlement.delayMs)
      return
    case 'deadLettered':
      msg.term(settlement.letter.reason.slice(0, 200))
      logger.error(
        { entryId: settlement.letter.entryId },
        `Moved to the dead letter queue, ${summary(settlement.letter)}`,
      )
      return
    case 'parked':
      msg.term(settlement.letter.reason.slice(0, 200))
      logger.error(
        { err: settlement.cause, entryId: settlement.letter.entryId },
        `Parked for the dead letter queue (MongoDB did not take the entry; it moves there once it does), ${summary(settlement.letter)}`,
      )
      return
    case 'unrecorded':
      logger.error(
        // Only `err` is serialized as an error: the cause goes as its message.
        { err: settlement.parkError, cause: messageOf(settlement.cause) },
        'could not record the DLQ entry nor park the message; it stays unacknowledged and is delivered again',
      )
      msg.nak(settlement.delayMs)
      return
  }
}

function summary(letter: { consumerGroup: string; eventId: string; reason: string }): string {
  return `consumer group: ${letter.consumerGroup}, event: ${letter.eventId.slice(0, 200)}, reason: ${letter.reason}`
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
