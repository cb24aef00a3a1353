import type { FlowEdgeKind } from '../../store/event-store.ts'
import type { FlowResolution } from './periods.ts'
import { bucketOf } from './histogram.ts'
import { periodMs, periodStart } from './periods.ts'

/** What one instance counted for one edge in one period (a minute or an hour). */
export interface PeriodCounts {
  resolution: FlowResolution
  /** The period's start, in ms. */
  periodAt: number
  kind: FlowEdgeKind
  from: string
  to: string
  count: number
  failures: number
  /** Step times per bucket index (`histogram.ts`), dense up to the last bucket used. */
  buckets: number[]
}

/** The counts in memory: each fact goes to its edge's minute and its hour. */
export interface FlowCounter {
  /** Counts one fact at `now` (ms); `ms` is its step time, when it has one. */
  count(
    kind: FlowEdgeKind,
    from: string,
    to: string,
    failed: boolean,
    ms: number | undefined,
    now: number,
  ): void
  /** Removes and returns the periods that ended by `now` (`all`: the current ones too). */
  take(now: number, all: boolean): PeriodCounts[]
}

interface EdgePeriods {
  minute?: PeriodCounts
  hour?: PeriodCounts
}

/** An empty counter; the clock is the caller's (`now` of each call). */
export function flowCounter(): FlowCounter {
  /** Each edge's current minute and hour, by `kind \n from \n to`: one lookup per fact. */
  const current = new Map<string, EdgePeriods>()
  /** Periods a later fact moved past (a flush had not taken them yet). */
  let ended: PeriodCounts[] = []

  const period = (
    edge: EdgePeriods,
    resolution: FlowResolution,
    at: number,
    kind: FlowEdgeKind,
    from: string,
    to: string,
  ): PeriodCounts => {
    const counts = edge[resolution]
    if (counts?.periodAt === at) return counts
    if (counts) ended.push(counts)
    const fresh = { resolution, periodAt: at, kind, from, to, count: 0, failures: 0, buckets: [] }
    edge[resolution] = fresh
    return fresh
  }

  return {
    count(kind, from, to, failed, ms, now) {
      const key = `${kind}\n${from}\n${to}`
      let edge = current.get(key)
      if (!edge) current.set(key, (edge = {}))
      const bucket = ms === undefined ? -1 : bucketOf(ms)
      for (const resolution of ['minute', 'hour'] as const) {
        const counts = period(edge, resolution, periodStart(now, resolution), kind, from, to)
        counts.count++
        if (failed) counts.failures++
        if (bucket < 0) continue
        while (counts.buckets.length <= bucket) counts.buckets.push(0)
        counts.buckets[bucket]!++
      }
    },
    take(now, all) {
      const taken = ended
      ended = []
      for (const [key, edge] of current) {
        for (const resolution of ['minute', 'hour'] as const) {
          const counts = edge[resolution]
          if (counts && (all || counts.periodAt + periodMs[resolution] <= now)) {
            taken.push(counts)
            edge[resolution] = undefined
          }
        }
        if (!edge.minute && !edge.hour) current.delete(key)
      }
      return taken
    },
  }
}
