import type { ReceivedEvent } from '@event-driven/core'
import type { InvoicePaidData } from '../events.ts'
import type { ReceivedStore } from '../received.ts'

/**
 * Handles Invoice.paid (consumer group `<service>.onInvoicePaid`). A delivery may repeat
 * (at least once), so the effect is keyed by the event's id.
 */
export async function onInvoicePaid(
  event: ReceivedEvent<InvoicePaidData>,
  received: ReceivedStore,
): Promise<void> {
  await received.keep({
    _id: event.id,
    subject: event.subject,
    operationId: event.operationId,
    receivedAt: new Date(),
  })
}
