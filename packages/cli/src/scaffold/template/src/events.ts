// The events of the order-history service. When the shape of an event's data changes, raise its
// version and add an upcaster from the old one (docs/event-history.md in event-driven).
import { defineEvent, type EventData } from '@event-driven/core'
import { z } from 'zod'

// @each publishes
export const OrderArchived = defineEvent({
  subject: 'Order.archived',
  version: 1,
  schema: z.object({ orderId: z.string(), note: z.string() }),
})
export type OrderArchivedData = EventData<typeof OrderArchived>
/** Data of the event's shape, for tests. */
export const OrderArchivedExample: OrderArchivedData = { orderId: 'id-1', note: 'a note' }

// @end
// @each consumesFromOthers
/** Published by another service: use its schema and version here (or import its events module). */
export const InvoicePaid = defineEvent({
  subject: 'Invoice.paid',
  version: 1,
  schema: z.looseObject({}),
})
export type InvoicePaidData = EventData<typeof InvoicePaid>
/** Data of the event's shape, for tests: change it with the schema. */
export const InvoicePaidExample: InvoicePaidData = {}

// @end
