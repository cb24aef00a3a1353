import type { FlowStatRecord } from '../../store/event-store.ts'
import { flowWindows, type FlowWindow } from './windows.ts'

/**
 * The periods the flow is counted in, and which documents a window reads. Every fact counts in a
 * minute and in an hour; short windows read minutes, long ones hours (with the current hour's
 * minutes, whose hour is not written yet). Pure: the clock is the caller's.
 */

/** A flow document's period: minutes serve the short windows, hours the long ones. */
export type FlowResolution = FlowStatRecord['resolution']

export const minuteMs = 60_000
export const hourMs = 60 * minuteMs

export const periodMs: Readonly<Record<FlowResolution, number>> = { minute: minuteMs, hour: hourMs }

/**
 * How long minute documents stay: they serve the `15m` and `1h` windows and the hour (and a
 * little) that hour documents do not cover yet.
 */
export const minuteKeepMs = 2 * hourMs

/**
 * How long after an hour ends its hour documents start being read. Until then that hour is read
 * from its minutes: an instance writes an hour's document at its first flush after the hour (10 s
 * by default), so reading it at once would drop the hour from the long windows for a flush.
 */
export const hourReadLagMs = 2 * minuteMs

/** The start of the period `ms` falls in (UTC: hours of the epoch). */
export function periodStart(ms: number, resolution: FlowResolution): number {
  const length = periodMs[resolution]
  return Math.floor(ms / length) * length
}

/** One `find` of a window's read: documents of a resolution with `from ≤ periodAt < before`. */
export interface PeriodRange {
  resolution: FlowResolution
  from: Date
  /** Absent: up to now. */
  before?: Date
}

/** What a window reads at `now`: the ranges, and the start they cover from. */
export interface FlowReadPlan {
  /** The first period counted: the window's start, rounded down to its resolution. */
  since: Date
  ranges: PeriodRange[]
}

/**
 * `15m` and `1h`: minute documents from the minute the window began. `6h` and `24h`: hour
 * documents from the hour it began up to the last hour written (see `hourReadLagMs`), then the
 * minutes since. The two ranges meet without overlapping, so a fact counted in a minute and in an
 * hour is read once, and an hour document written before its hour ended (an instance that stopped)
 * is not read while that hour's minutes are.
 */
export function flowReadPlan(window: FlowWindow, now: Date): FlowReadPlan {
  const start = now.getTime() - flowWindows[window]
  if (flowWindows[window] <= hourMs) {
    const since = new Date(periodStart(start, 'minute'))
    return { since, ranges: [{ resolution: 'minute', from: since }] }
  }
  const since = new Date(periodStart(start, 'hour'))
  const minutesFrom = new Date(periodStart(now.getTime() - hourReadLagMs, 'hour'))
  return {
    since,
    ranges: [
      { resolution: 'hour', from: since, before: minutesFrom },
      { resolution: 'minute', from: minutesFrom },
    ],
  }
}
