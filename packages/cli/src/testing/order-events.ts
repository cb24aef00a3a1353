// The events of the CLI's history tests: Order.placed, first at version 1, now at version 2.
import { defineEvent } from '@event-driven/core'
import { z } from 'zod'

export const OrderPlacedV1 = defineEvent({
  subject: 'Order.placed',
  version: 1,
  schema: z.object({ orderId: z.string(), total: z.number() }),
})

/** Version 2 keeps the total in cents. What `event-driven migrate --events` loads. */
export const OrderPlaced = defineEvent({
  subject: 'Order.placed',
  version: 2,
  schema: z.object({ orderId: z.string(), totalCents: z.number().int() }),
  upcasters: {
    1: (v1: { orderId: string; total: number }) => ({
      orderId: v1.orderId,
      totalCents: Math.round(v1.total * 100),
    }),
  },
})
