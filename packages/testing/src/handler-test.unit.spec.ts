import { defineEvent } from '@event-driven/core'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { testHandler } from './handler-test.ts'

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

describe('testHandler', () => {
  it('acknowledges a handled event and returns what it published, with its lineage', async () => {
    const billing = testHandler(
      OrderPlaced,
      async (event, ctx) => {
        await ctx.publish(InvoiceIssued, { orderId: event.data.orderId })
      },
      { service: 'billing', handler: 'issueInvoice' },
    )
    const run = await billing.deliver({
      data: { orderId: 'o1', total: 10 },
      id: 'e1',
      operationId: 'op1',
    })
    expect(billing.consumerGroup).toBe('billing.issueInvoice')
    expect(run.outcome).toEqual({ kind: 'ack' })
    expect(run.published).toEqual([
      {
        id: expect.any(String) as string,
        subject: 'Invoice.issued',
        version: 1,
        data: { orderId: 'o1' },
        operationId: 'op1',
        parentId: 'e1',
      },
    ])
  })

  it('retries a throwing handler with a delay, and acknowledges it once it succeeds', async () => {
    let calls = 0
    const flaky = testHandler(OrderPlaced, async () => {
      calls += 1
      if (calls <= 2) throw new Error('the invoice service is down')
    })
    const runs = await flaky.deliverUntilSettled({ data: { orderId: 'o2', total: 5 } })
    expect(runs.map((r) => [r.attempt, r.outcome.kind])).toEqual([
      [1, 'retry'],
      [2, 'retry'],
      [3, 'ack'],
    ])
    expect(runs[0]!.outcome).toMatchObject({ delayMs: expect.any(Number) as number })
  })

  it('re-emits the same child ids on a retry', async () => {
    const splitter = testHandler(OrderPlaced, async (event, ctx) => {
      await ctx.publish(InvoiceIssued, { orderId: event.data.orderId })
      if (ctx.attempt === 1) throw new Error('failed after publishing')
    })
    const [first, second] = await splitter.deliverUntilSettled({
      data: { orderId: 'o3', total: 1 },
    })
    expect(second!.published.map((e) => e.id)).toEqual(first!.published.map((e) => e.id))
  })

  it('sends invalid data to the DLQ on the first delivery, with the reason, never running the handler', async () => {
    let calls = 0
    const strict = testHandler(OrderPlaced, async () => {
      calls += 1
    })
    const run = await strict.deliver({ data: { orderId: 'o4', total: -1 } })
    expect(run.outcome).toMatchObject({ kind: 'deadLetter', trusted: true })
    expect(run.outcome.kind === 'deadLetter' && run.outcome.reason).toContain(
      'Order.placed data is invalid: total:',
    )
    expect(calls).toBe(0)
  })

  it('gives up after the last allowed failure, with every attempt', async () => {
    const broken = testHandler(
      OrderPlaced,
      async () => {
        throw new Error('mapping is wrong')
      },
      { retry: { maxFailures: 3 } },
    )
    const runs = await broken.deliverUntilSettled({ data: { orderId: 'o5', total: 1 } })
    expect(runs.map((r) => r.outcome.kind)).toEqual(['retry', 'retry', 'deadLetter'])
    expect(runs.at(-1)!.outcome).toEqual({
      kind: 'deadLetter',
      reason: 'failed 3 times; last error: mapping is wrong',
      attempts: [1, 2, 3].map((attempt) => ({ attempt, message: 'mapping is wrong' })),
      trusted: true,
    })
  })

  it('counts a handler past its timeout as a failure', async () => {
    const slow = testHandler(OrderPlaced, () => new Promise(() => {}), { timeoutMs: 20 })
    const run = await slow.deliver({ data: { orderId: 'o6', total: 1 } })
    expect(run.outcome.kind).toBe('retry')
  })

  it('acknowledges a redelivery it already handled without running the handler again', async () => {
    let calls = 0
    const once = testHandler(OrderPlaced, async () => {
      calls += 1
    })
    const event = { data: { orderId: 'o7', total: 1 }, id: 'e7' }
    await once.deliver(event)
    expect((await once.deliver({ ...event, attempt: 2 })).outcome).toEqual({ kind: 'ack' })
    expect(calls).toBe(1)
  })
})
