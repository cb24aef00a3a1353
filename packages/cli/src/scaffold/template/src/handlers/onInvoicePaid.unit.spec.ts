import { testHandler } from '@event-driven/testing'
import { describe, expect, it } from 'vitest'
import { InvoicePaid, InvoicePaidExample } from '../events.ts'
import type { ReceivedRecord, ReceivedStore } from '../received.ts'
import { onInvoicePaid } from './onInvoicePaid.ts'

// testHandler runs the handler through the framework's own delivery steps, in memory: the
// outcome is what its consumer group would do on the real servers (ack, retry, DLQ).
const group = { service: 'order-history', handler: 'onInvoicePaid' }

describe('onInvoicePaid', () => {
  it('keeps one document per event, even when the event is delivered twice', async () => {
    const kept = new Map<string, ReceivedRecord>()
    const store: ReceivedStore = {
      keep: async (doc) => {
        if (!kept.has(doc._id)) kept.set(doc._id, doc)
      },
    }
    const test = testHandler(InvoicePaid, (event) => onInvoicePaid(event, store), group)
    const event = { id: 'event-1', operationId: 'operation-1', data: InvoicePaidExample }

    expect((await test.deliver(event)).outcome).toEqual({ kind: 'ack' })
    expect((await test.deliver({ ...event, redelivery: 'relay' })).outcome).toEqual({
      kind: 'ack',
    })
    expect([...kept.values()]).toEqual([
      expect.objectContaining({
        _id: 'event-1',
        subject: 'Invoice.paid',
        operationId: 'operation-1',
      }),
    ])
  })

  it('is retried while its store fails, then given up to the DLQ with every attempt', async () => {
    const store: ReceivedStore = {
      keep: () => Promise.reject(new Error('the database is down')),
    }
    const test = testHandler(InvoicePaid, (event) => onInvoicePaid(event, store), group)

    const runs = await test.deliverUntilSettled({ data: InvoicePaidExample })
    expect(runs.map((run) => run.outcome.kind)).toEqual([
      'retry',
      'retry',
      'retry',
      'retry',
      'deadLetter',
    ])
    expect(runs.at(-1)!.outcome).toMatchObject({
      kind: 'deadLetter',
      attempts: [1, 2, 3, 4, 5].map((attempt) => ({
        attempt,
        message: 'the database is down',
      })),
    })
  })
})
