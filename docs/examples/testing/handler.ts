// #region
import { defineEvent, type EventHandler } from '@event-driven/core'
import { testHandler } from '@event-driven/testing'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'

const OrderPlaced = defineEvent({
  subject: 'Order.placed',
  version: 1,
  schema: z.object({ orderId: z.string(), total: z.number().positive() }),
})
const InvoiceIssued = defineEvent({
  subject: 'Invoice.issued',
  version: 1,
  schema: z.object({ orderId: z.string() }),
})

const issueInvoice: EventHandler<{ orderId: string; total: number }> = async (event, ctx) => {
  await ctx.publish(InvoiceIssued, { orderId: event.data.orderId })
}

describe('issueInvoice', () => {
  it('issues the invoice of the order', async () => {
    const billing = testHandler(OrderPlaced, issueInvoice, {
      service: 'billing',
      handler: 'issueInvoice',
    })
    const run = await billing.deliver({ data: { orderId: 'o1', total: 10 }, id: 'e1' })
    expect(run.outcome).toEqual({ kind: 'ack' })
    expect(run.published).toMatchObject([
      { subject: 'Invoice.issued', data: { orderId: 'o1' }, parentId: 'e1' },
    ])
  })

  it('sends data the schema refuses to the DLQ, never running the handler', async () => {
    const billing = testHandler(OrderPlaced, issueInvoice)
    const run = await billing.deliver({ data: { orderId: 'o2', total: -1 } })
    expect(run.outcome).toMatchObject({ kind: 'deadLetter', trusted: true })
  })
})
// #endregion
