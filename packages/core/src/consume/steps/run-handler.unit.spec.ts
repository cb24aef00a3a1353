import { describe, expect, it } from 'vitest'
import { HandlerTimeoutError } from '../../errors.ts'
import { childEventId } from '../../ids.ts'
import { NoteIndexed, fakeGroup, noteDelivery } from '../../testing/fake-delivery.ts'
import { inMemoryLedger, inMemoryPublisher } from '../../in-memory/adapters.ts'
import type { ConsumerGroup, Delivery } from '../delivery.ts'
import type { HandlerContext, ReceivedEvent } from '../handler.ts'
import { runHandler } from './run-handler.ts'

async function decoded(group: ConsumerGroup, attempt = 1): Promise<Delivery> {
  const delivery = noteDelivery({ deliveryCount: attempt }, group)
  const event: ReceivedEvent = {
    id: 'e1',
    subject: 'Note.added',
    version: 2,
    publishedVersion: 2,
    data: { text: 'hello' },
    operationId: 'op1',
    parentId: 'op1',
    createdAt: new Date(),
  }
  return { ...delivery, event }
}

describe('run handler', () => {
  it('runs the handler, writes the ledger, then acknowledges', async () => {
    const ledger = inMemoryLedger()
    const seen: [ReceivedEvent, HandlerContext][] = []
    const group = fakeGroup({ ledger, handler: async (event, ctx) => void seen.push([event, ctx]) })
    expect(await runHandler(await decoded(group, 2), group)).toEqual({
      kind: 'ack',
      note: 'handled',
    })
    expect([...ledger.keys]).toEqual(['e1/notes.index'])
    expect(seen[0]![0].data).toEqual({ text: 'hello' })
    expect(seen[0]![1]).toMatchObject({ consumerGroup: 'notes.index', attempt: 2 })
  })

  it('publishes children with ids derived from the parent, the group, the subject and the ordinal', async () => {
    const publisher = inMemoryPublisher('notes')
    const group = fakeGroup({
      publisher,
      handler: async (_event, ctx) => {
        await ctx.publish(NoteIndexed, { text: 'a' })
        await ctx.publish(NoteIndexed, { text: 'b' })
      },
    })
    await runHandler(await decoded(group), group)
    expect(publisher.published.map((e) => [e._id, e.operationId, e.parentId])).toEqual([
      [childEventId('e1', 'notes.index', 'Note.indexed', 1), 'op1', 'e1'],
      [childEventId('e1', 'notes.index', 'Note.indexed', 2), 'op1', 'e1'],
    ])
  })

  it('hands a failure to the next step, and writes no ledger entry', async () => {
    const ledger = inMemoryLedger()
    const error = new Error('index mapping is wrong')
    const group = fakeGroup({
      ledger,
      handler: async () => {
        throw error
      },
    })
    const delivery = await decoded(group)
    expect(await runHandler(delivery, group)).toEqual({
      kind: 'next',
      delivery: { ...delivery, failure: { error, startedAt: expect.any(Date) as Date } },
    })
    expect(ledger.keys.size).toBe(0)
  })

  it('fails a run past its timeout and aborts its signal', async () => {
    let signal: AbortSignal | undefined
    const group = fakeGroup({
      settings: { ...fakeGroup().settings, timeoutMs: 20 },
      handler: async (_event, ctx) => {
        signal = ctx.signal
        await new Promise(() => {}) // never settles
      },
    })
    const outcome = await runHandler(await decoded(group), group)
    expect(outcome.kind).toBe('next')
    const failure = outcome.kind === 'next' ? outcome.delivery.failure?.error : undefined
    expect(failure).toBeInstanceOf(HandlerTimeoutError)
    expect((failure as Error).message).toBe('the handler ran longer than its timeout of 20 ms')
    expect(signal?.aborted).toBe(true)
  })

  it('rejects when the ledger does not take the entry (the delivery is retried)', async () => {
    const group = fakeGroup({
      ledger: { ...inMemoryLedger(), markProcessed: () => Promise.reject(new Error('down')) },
    })
    await expect(runHandler(await decoded(group), group)).rejects.toThrow('down')
  })

  it('needs the decoded event', async () => {
    const group = fakeGroup()
    await expect(runHandler(noteDelivery({}, group), group)).rejects.toThrow(
      'decode comes before it',
    )
  })
})
