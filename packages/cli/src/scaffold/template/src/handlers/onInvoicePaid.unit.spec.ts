import { describe, expect, it } from 'vitest'
import type { ReceivedRecord, ReceivedStore } from '../received.ts'
import { onInvoicePaid } from './onInvoicePaid.ts'

describe('onInvoicePaid', () => {
  it('keeps one document per event, even when the event is delivered twice', async () => {
    const kept = new Map<string, ReceivedRecord>()
    const store: ReceivedStore = {
      keep: async (doc) => {
        if (!kept.has(doc._id)) kept.set(doc._id, doc)
      },
    }
    const event = {
      id: 'event-1',
      subject: 'Invoice.paid',
      version: 1,
      publishedVersion: 1,
      data: {} as never,
      operationId: 'operation-1',
      parentId: 'operation-1',
      createdAt: new Date(),
    }
    await onInvoicePaid(event, store)
    await onInvoicePaid(event, store)
    expect([...kept.values()]).toEqual([
      expect.objectContaining({
        _id: 'event-1',
        subject: 'Invoice.paid',
        operationId: 'operation-1',
      }),
    ])
  })
})
