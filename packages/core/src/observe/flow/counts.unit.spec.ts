import { describe, expect, it } from 'vitest'
import { flowCounter } from './counts.ts'
import { bucketOf } from './histogram.ts'
import { sumEdges } from './totals.ts'

const t = (iso: string) => new Date(iso).getTime()

describe('the counts in memory', () => {
  it('keep one minute and one hour per edge, with every counter, whatever the facts', () => {
    const counter = flowCounter()
    for (let i = 0; i < 500; i++) {
      const now = t('2026-03-01T10:20:00Z') + i * 100 // all within the minute
      counter.count('delivers', 'Order.placed', 'shop.bill', i % 10 === 0, i % 2 ? 40 : 3_000, now)
      // Many flushes within the minute take nothing.
      if (i % 50 === 0) expect(counter.take(now, false)).toEqual([])
    }
    const minute = counter.take(t('2026-03-01T10:21:00Z'), false)
    expect(minute).toHaveLength(1)
    expect(minute[0]).toMatchObject({ resolution: 'minute', count: 500, failures: 50 })
    expect(minute[0]!.buckets).toHaveLength(bucketOf(3_000) + 1)
    expect(minute[0]!.buckets[bucketOf(40)]).toBe(250)
    expect(minute[0]!.buckets[bucketOf(3_000)]).toBe(250)
    expect(counter.take(t('2026-03-01T10:59:59Z'), false)).toEqual([])
    const hour = counter.take(t('2026-03-01T11:00:00Z'), false)
    expect(hour).toEqual([
      { ...minute[0], resolution: 'hour', periodAt: t('2026-03-01T10:00:00Z') },
    ])
  })

  it('writes the current minute and hour at a stop, and counts what follows afresh', () => {
    const counter = flowCounter()
    counter.count('publishes', 'shop', 'Order.placed', false, undefined, t('2026-03-01T10:20:10Z'))
    const stop = counter.take(t('2026-03-01T10:20:20Z'), true)
    expect(stop.map((p) => [p.resolution, p.count, p.buckets])).toEqual([
      ['minute', 1, []],
      ['hour', 1, []],
    ])
    counter.count('publishes', 'shop', 'Order.placed', false, undefined, t('2026-03-01T10:20:30Z'))
    expect(sumEdges(counter.take(t('2026-03-01T11:00:00Z'), false))[0]!.count).toBe(2) // both
  })

  it('moves an edge to its next minute without a flush, and keeps the minute it left', () => {
    const counter = flowCounter()
    counter.count('emits', 'shop.reserve', 'Stock.reserved', false, 5, t('2026-03-01T10:59:30Z'))
    counter.count('emits', 'shop.reserve', 'Stock.reserved', false, 5, t('2026-03-01T11:00:30Z'))
    const taken = counter.take(t('2026-03-01T11:00:40Z'), false)
    expect(taken.map((p) => [p.resolution, new Date(p.periodAt).toISOString(), p.count])).toEqual([
      ['minute', '2026-03-01T10:59:00.000Z', 1],
      ['hour', '2026-03-01T10:00:00.000Z', 1],
    ])
  })
})

describe('the sums of a read', () => {
  it('add up each edge, and leave out what is not a count', () => {
    const edges = sumEdges([
      { kind: 'delivers', from: 'A.b', to: 'g.h', count: 3, failures: 1, buckets: [1, 0, 2] },
      { kind: 'delivers', from: 'A.b', to: 'g.h', count: 2, failures: 0, buckets: [0, 0, 0, 2] },
      { kind: 'delivers', from: 'A.b', to: 'g.h', count: Number.NaN, buckets: 'x' as never },
      { kind: 'other' as never, from: 'A.b', to: 'g.h', count: 100 },
      { from: 'A.b', to: 'g.h', count: 100 },
      { kind: 'publishes', from: 's', to: 'A.b', count: '7' as never, buckets: Array(99).fill(1) },
    ])
    expect(edges.map(({ kind, count, failures }) => [kind, count, failures])).toEqual([
      ['delivers', 5, 1],
      ['publishes', 0, 0],
    ])
    expect(edges[0]!.buckets.slice(0, 5)).toEqual([1, 0, 2, 2, 0])
    expect(edges[1]!.buckets.every((n) => n === 1)).toBe(true)
    expect(edges[1]!.buckets).toHaveLength(edges[0]!.buckets.length)
  })
})
