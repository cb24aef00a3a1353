import { describe, expect, it } from 'vitest'
import { childEventId } from '../ids.ts'
import { NoteAdded, NoteIndexed } from '../testing/fake-delivery.ts'
import { inMemoryConsumerGroup } from './consumer-group.ts'

describe('a consumer group in memory', () => {
  it('runs the production steps: retried twice, then handled; children keep their ids', async () => {
    let runs = 0
    const group = inMemoryConsumerGroup({
      definition: NoteAdded,
      service: 'notes',
      handlerName: 'index',
      handler: async (event, ctx) => {
        await ctx.publish(NoteIndexed, { text: event.data.text })
        runs += 1
        if (runs < 3) throw new Error(`run ${runs} failed`)
      },
    })
    const event = { eventId: 'e1', operationId: 'op1', data: { text: 'hi' } }
    const first = await group.deliver(event, 1)
    const second = await group.deliver(event, 2)
    const third = await group.deliver(event, 3)
    expect([first, second, third].map((d) => d.settlement.kind)).toEqual(['retry', 'retry', 'ack'])
    expect(third.message.settlements).toEqual([{ kind: 'ack' }])
    const child = childEventId('e1', 'notes.index', 'Note.indexed', 1)
    expect([first, second, third].map((d) => d.published.map((e) => e._id))).toEqual([
      [child],
      [child],
      [child],
    ])
    expect(third.published[0]).toMatchObject({
      operationId: 'op1',
      parentId: 'e1',
      redelivery: 'retry',
    })
    expect(group.failures.records.get('e1/notes.index')!.map((a) => a.message)).toEqual([
      'run 1 failed',
      'run 2 failed',
    ])
    expect([...group.ledger.keys]).toEqual(['e1/notes.index'])
    // Delivered again after it was handled: acknowledged by the ledger, not run.
    expect((await group.deliver(event, 4)).settlement).toMatchObject({ kind: 'ack' })
    expect(runs).toBe(3)
  })

  it('gives invalid data up on its first delivery, with the reason', async () => {
    const group = inMemoryConsumerGroup({ definition: NoteAdded, handler: async () => undefined })
    const { settlement, message } = await group.deliver({ data: { text: '' } })
    expect(settlement).toMatchObject({ kind: 'deadLettered' })
    expect(settlement.kind === 'deadLettered' && settlement.letter.reason).toContain(
      'Note.added data is invalid: text:',
    )
    expect(message.settlements).toMatchObject([{ kind: 'term' }])
    expect(group.deadLetters.entries.size).toBe(1)
  })

  it('counts deliveries that left no outcome: a delivery past the last is given up', async () => {
    const group = inMemoryConsumerGroup({
      definition: NoteAdded,
      handler: async () => undefined,
      retry: { maxFailures: 3 },
    })
    const { settlement } = await group.deliver({ data: { text: 'hi' } }, 4)
    expect(settlement).toMatchObject({ kind: 'deadLettered' })
    expect(settlement.kind === 'deadLettered' && settlement.letter.attempts).toHaveLength(3)
  })
})
