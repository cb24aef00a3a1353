import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { flowCounter, type PeriodCounts } from './counts.ts'
import {
  flowReadPlan,
  hourMs,
  hourReadLagMs,
  minuteMs,
  periodStart,
  type PeriodRange,
} from './periods.ts'
import { sumEdges } from './totals.ts'
import { flowWindowNames, flowWindows } from './windows.ts'

const at = (iso: string) => new Date(iso)

/** What a `find` of the range returns from documents written by the counter. */
const inRange = (range: PeriodRange, p: PeriodCounts) =>
  p.resolution === range.resolution &&
  p.periodAt >= range.from.getTime() &&
  (range.before === undefined || p.periodAt < range.before.getTime())

describe("a window's read", () => {
  it('reads minutes for 15m and 1h, from the minute the window began', () => {
    const now = at('2026-03-01T10:20:30.500Z')
    expect(flowReadPlan('15m', now)).toEqual({
      since: at('2026-03-01T10:05:00Z'),
      ranges: [{ resolution: 'minute', from: at('2026-03-01T10:05:00Z') }],
    })
    expect(flowReadPlan('1h', now).since).toEqual(at('2026-03-01T09:20:00Z'))
  })

  it('reads hours for 6h and 24h up to the current hour, then its minutes', () => {
    const now = at('2026-03-01T10:20:30Z')
    expect(flowReadPlan('6h', now)).toEqual({
      since: at('2026-03-01T04:00:00Z'),
      ranges: [
        {
          resolution: 'hour',
          from: at('2026-03-01T04:00:00Z'),
          before: at('2026-03-01T10:00:00Z'),
        },
        { resolution: 'minute', from: at('2026-03-01T10:00:00Z') },
      ],
    })
    expect(flowReadPlan('24h', now).since).toEqual(at('2026-02-28T10:00:00Z'))
  })

  it('reads the hour just ended from its minutes until its hour documents are surely written', () => {
    const justAfter = at('2026-03-01T10:01:00Z')
    expect(flowReadPlan('6h', justAfter).ranges).toEqual([
      { resolution: 'hour', from: at('2026-03-01T04:00:00Z'), before: at('2026-03-01T09:00:00Z') },
      { resolution: 'minute', from: at('2026-03-01T09:00:00Z') },
    ])
    const later = new Date(at('2026-03-01T10:00:00Z').getTime() + hourReadLagMs)
    expect(flowReadPlan('6h', later).ranges[1]).toEqual({
      resolution: 'minute',
      from: at('2026-03-01T10:00:00Z'),
    })
  })

  it('counts every fact since the window began exactly once, whenever flushes and stops came', () => {
    const start = at('2026-03-01T00:00:00Z').getTime()
    const span = 30 * hourMs
    const step = fc.record({
      /** Time moves forward by up to 20 minutes per step. */
      advance: fc.integer({ min: 0, max: 20 * minuteMs }),
      edge: fc.constantFrom('a', 'b'),
      failed: fc.boolean(),
      ms: fc.option(fc.double({ min: 0, max: 10_000, noNaN: true }), { nil: undefined }),
      /** After the fact: nothing, a flush, or a stop (everything written, partial periods too). */
      then: fc.constantFrom('count', 'count', 'flush', 'stop'),
    })
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 0, max: span }),
        fc.constantFrom(...flowWindowNames),
        (steps, readAfter, window) => {
          const counter = flowCounter()
          const written: PeriodCounts[] = []
          const facts: number[] = []
          let now = start
          for (const s of steps) {
            now += s.advance
            counter.count('delivers', 'Order.placed', s.edge, s.failed, s.ms, now)
            facts.push(now)
            if (s.then !== 'count') written.push(...counter.take(now, s.then === 'stop'))
          }
          // The last instance stops; the read comes later.
          written.push(...counter.take(now, true))
          const readAt = new Date(now + readAfter)
          const { since, ranges } = flowReadPlan(window, readAt)
          const read = written.filter((p) => ranges.some((r) => inRange(r, p)))
          const total = sumEdges(read).reduce((sum, e) => sum + e.count, 0)
          expect(total).toBe(facts.filter((t) => t >= since.getTime()).length)
          expect(since.getTime()).toBeLessThanOrEqual(readAt.getTime() - flowWindows[window])
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('periods', () => {
  it('start at the minute and the hour (UTC)', () => {
    const t = at('2026-03-01T10:20:30.500Z').getTime()
    expect(new Date(periodStart(t, 'minute'))).toEqual(at('2026-03-01T10:20:00Z'))
    expect(new Date(periodStart(t, 'hour'))).toEqual(at('2026-03-01T10:00:00Z'))
  })
})
