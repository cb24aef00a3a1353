import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import { inMemoryConsumerGroup } from '../in-memory/consumer-group.ts'
import type { HandlerRun, ServiceMetrics, SettledDelivery } from './metrics.ts'

const NoteAdded = defineEvent({
  subject: 'Note.added',
  version: 1,
  schema: z.object({ text: z.string() }),
})

/** An observer that keeps what it was told. */
function recorder() {
  const runs: HandlerRun[] = []
  const settled: SettledDelivery[] = []
  const metrics: ServiceMetrics = {
    handlerRan: (run) => void runs.push(run),
    delivered: (delivery) => void settled.push(delivery),
    published: () => undefined,
  }
  return { metrics, runs, settled }
}

function group(handler: () => Promise<void>, metrics: ServiceMetrics) {
  return inMemoryConsumerGroup({
    definition: NoteAdded,
    handler,
    service: 'notes',
    handlerName: 'index',
    metrics,
  })
}

describe('what a delivery tells the metrics observer', () => {
  it('a finished handler: one run (not failed), settled as handled', async () => {
    const { metrics, runs, settled } = recorder()
    await group(async () => undefined, metrics).deliver({ data: { text: 'a' } })
    expect(runs).toHaveLength(1)
    expect(runs[0]!.durationMs).toBeGreaterThanOrEqual(0)
    expect({ ...runs[0], durationMs: 0 }).toEqual({
      consumerGroup: 'notes.index',
      subject: 'Note.added',
      durationMs: 0,
      failed: false,
      attempt: 1,
      eventCreatedAt: expect.any(Date) as Date,
    })
    expect(settled).toEqual([
      { consumerGroup: 'notes.index', subject: 'Note.added', outcome: 'handled', attempt: 1 },
    ])
  })

  it('a copy of a processed event: settled as duplicate, the handler does not run', async () => {
    const { metrics, runs, settled } = recorder()
    const notes = group(async () => undefined, metrics)
    await notes.deliver({ eventId: 'e1', data: { text: 'a' } })
    await notes.deliver({ eventId: 'e1', data: { text: 'a' } }, 2)
    expect(runs).toHaveLength(1)
    expect(settled.map((s) => s.outcome)).toEqual(['handled', 'duplicate'])
  })

  it('a failing handler: failed runs, retried four times, dead-lettered on the fifth', async () => {
    const { metrics, runs, settled } = recorder()
    const notes = group(async () => {
      throw new Error('search is down')
    }, metrics)
    for (let attempt = 1; attempt <= 5; attempt++)
      await notes.deliver({ eventId: 'e1', data: { text: 'a' } }, attempt)
    expect(runs.map((r) => [r.failed, r.attempt])).toEqual([
      [true, 1],
      [true, 2],
      [true, 3],
      [true, 4],
      [true, 5],
    ])
    expect(settled.map((s) => s.outcome)).toEqual([
      'retried',
      'retried',
      'retried',
      'retried',
      'dead_lettered',
    ])
  })

  it('a message naming another subject: labelled other, never with the bytes it sent', async () => {
    const { metrics, runs, settled } = recorder()
    await group(async () => undefined, metrics).deliver({
      subject: 'Forged.subject-of-the-day',
      data: { text: 'a' },
    })
    expect(runs).toEqual([])
    expect(settled).toEqual([
      { consumerGroup: 'notes.index', subject: 'other', outcome: 'dead_lettered', attempt: 1 },
    ])
  })

  it('a redriven entry: its run says redrive', async () => {
    const { metrics, runs } = recorder()
    await group(async () => undefined, metrics).deliver({
      redelivery: 'redrive',
      data: { text: 'a' },
    })
    expect(runs).toMatchObject([{ redelivery: 'redrive', attempt: 1, failed: false }])
  })

  it('an observer that throws changes nothing: the event is handled once and settled', async () => {
    let runs = 0
    const throwing: ServiceMetrics = {
      handlerRan: () => {
        throw new Error('observer broke')
      },
      delivered: () => {
        throw new Error('observer broke')
      },
      published: () => {
        throw new Error('observer broke')
      },
    }
    const notes = group(async () => void runs++, throwing)
    const first = await notes.deliver({ eventId: 'e1', data: { text: 'a' } })
    expect(first.settlement.kind).toBe('ack')
    // Marked processed: a copy is a duplicate, and the handler does not run again.
    await notes.deliver({ eventId: 'e1', data: { text: 'a' } }, 2)
    expect(runs).toBe(1)
  })
})
