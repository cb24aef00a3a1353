import { randomBytes } from 'node:crypto'
import { MongoServerError } from 'mongodb'
import type { Logger } from 'pino'
import { runEvery } from '../../periodic.ts'
import { MongoCodes } from '../../server-codes.ts'
import type { EventStore, FlowEdgeKind, FlowStatRecord } from '../../store/event-store.ts'
import { insertNew } from '../../store/insert-new.ts'
import { currentFormat } from '../../version/formats.ts'
import type { HandlerRun, PublishedEvent, ServiceMetrics } from '../metrics.ts'
import { flowCounter, type PeriodCounts } from './counts.ts'
import { minuteKeepMs, type FlowResolution } from './periods.ts'

/** The flow of each subject: what a service counts and how long it keeps the counts. */
export interface FlowOptions {
  /**
   * How often this instance writes the counts of the minutes and hours that have ended (one
   * `insertMany`); it writes the minute and hour still counting too when it stops.
   * @default 10_000
   */
  flushIntervalMs?: number
  /**
   * How long the hourly counts stay in `flow_stats` (minutes stay 2 hours, or this if shorter): a
   * TTL index on MongoDB; a sweep every 10 minutes where the server has none, such as FerretDB.
   * @default 2 days
   */
  keepMs?: number
}

export const flowDefaults = Object.freeze({
  flushIntervalMs: 10_000,
  keepMs: 2 * 24 * 60 * 60_000,
})

/** Documents kept for the next flush while MongoDB does not take them; past it the oldest go. */
const maxUnwritten = 20_000

const sweepIntervalMs = 10 * 60_000

/**
 * A metrics observer that counts the flow of events per edge (publisher → subject, subject →
 * consumer group, consumer group → subject it emits), each fact in its minute and in its hour:
 * count, failures and a histogram of the step time. Counting is a map update in memory; a flush
 * writes the minutes and hours that have ended as new documents, one per period, edge and
 * instance holding all its counters (ids unique to this instance), never an update: FerretDB's
 * updates are not atomic, and instances never write the same document. It reads nothing. The
 * graph lags by up to a minute and a flush. A flush that fails keeps its documents for the next,
 * same ids, so a write that went through after all is not counted twice. A crash loses what was
 * not written yet, never an event: the current minute and a flush of the short windows, the
 * current hour of the long ones.
 */
export interface FlowRecorder extends ServiceMetrics {
  /** Makes the TTL index (or starts the sweep) and flushes every interval; returns the stop. */
  start(): Promise<() => Promise<void>>
  /**
   * Writes the counts of the minutes and hours that have ended (`all`: the current ones too);
   * resolves when written, or kept for the next flush.
   */
  flush(all?: boolean): Promise<void>
}

/** The flow recorder of one service instance (ids unique to it: a random instance id). */
export function flowRecorder(options: {
  store: EventStore
  logger: Logger
  flushIntervalMs?: number
  keepMs?: number
  /** The clock that places facts in minutes and hours (ms); tests move it past an hour. */
  now?: () => number
}): FlowRecorder {
  const { store, logger } = options
  const flushIntervalMs = options.flushIntervalMs ?? flowDefaults.flushIntervalMs
  const keepMs = options.keepMs ?? flowDefaults.keepMs
  const now = options.now ?? Date.now
  const keep: Record<FlowResolution, number> = {
    minute: Math.min(minuteKeepMs, keepMs),
    hour: keepMs,
  }
  const instance = randomBytes(8).toString('hex')
  let flushes = 0
  const counter = flowCounter()
  let unwritten: FlowStatRecord[] = []
  let failing = false

  const count = (kind: FlowEdgeKind, from: string, to: string, failed: boolean, ms?: number) =>
    counter.count(kind, from, to, failed, ms, now())

  const documents = (taken: PeriodCounts[]): FlowStatRecord[] => {
    flushes++
    return taken.map((period, i) => ({
      _id: `${instance}:${flushes}:${i}`,
      format: currentFormat,
      resolution: period.resolution,
      periodAt: new Date(period.periodAt),
      kind: period.kind,
      from: period.from,
      to: period.to,
      count: period.count,
      failures: period.failures,
      buckets: period.buckets,
      expireAt: new Date(period.periodAt + keep[period.resolution]),
    }))
  }

  const write = async (all: boolean) => {
    const ended = counter.take(now(), all)
    if (ended.length > 0) unwritten.push(...documents(ended))
    if (unwritten.length > maxUnwritten) {
      const dropped = unwritten.length - maxUnwritten
      unwritten = unwritten.slice(dropped)
      logger.warn(
        { dropped },
        'flow counts MongoDB did not take were dropped: the flow misses them',
      )
    }
    if (unwritten.length === 0) return
    const batch = unwritten
    try {
      // "Already there": an earlier flush's write went through after all.
      const { failed } = await insertNew(store.flowStats, batch)
      unwritten = batch.filter((_, i) => failed.has(i))
      if (unwritten.length > 0) throw new Error(`${unwritten.length} documents were refused`)
      if (failing) logger.info('flow counts are written again')
      failing = false
    } catch (error) {
      if (!failing)
        logger.warn(
          { err: error, waiting: unwritten.length },
          'flow counts could not be written: kept for the next flush',
        )
      failing = true
    }
  }
  let flushing: Promise<void> = Promise.resolve()
  const flush = (all = false) => (flushing = flushing.then(() => write(all)))

  /** A TTL index where the server has them; else (FerretDB) a sweep. */
  const expiry = async (): Promise<'ttl-index' | 'sweep'> => {
    try {
      await store.flowStats.createIndex(
        { expireAt: 1 },
        { expireAfterSeconds: 0, name: 'expireAt_ttl' },
      )
      return 'ttl-index'
    } catch (error) {
      if (!(error instanceof MongoServerError && error.code === MongoCodes.NotImplemented))
        logger.warn({ err: error }, 'no TTL index on flow_stats: old counts are swept instead')
      return 'sweep'
    }
  }

  return {
    handlerRan(run: HandlerRun) {
      // A replayed event's age says nothing about the flow.
      const ms =
        !run.failed && run.eventCreatedAt && run.redelivery !== 'replay'
          ? Date.now() - run.eventCreatedAt.getTime()
          : undefined
      count('delivers', run.subject, run.consumerGroup, run.failed, ms)
    },
    delivered() {},
    published(event: PublishedEvent) {
      if (event.copy || !event.publishedBy) return
      const group = event.publishedBy.consumerGroup
      if (group === undefined)
        count('publishes', event.publishedBy.service, event.subject, false, event.latencyMs)
      else {
        const { createdAt, parentCreatedAt } = event
        const ms =
          createdAt && parentCreatedAt ? createdAt.getTime() - parentCreatedAt.getTime() : undefined
        count('emits', group, event.subject, false, ms)
      }
    },
    async start() {
      let stopSweep: (() => Promise<void>) | undefined
      if ((await expiry()) === 'sweep') {
        const sweep = async () => {
          await store.flowStats.deleteMany({ expireAt: { $lte: new Date() } })
        }
        const swept = (error: unknown) =>
          logger.warn({ err: error }, 'old flow counts could not be swept; tried again later')
        // Once at start too: a service restarted more often than the interval still sweeps.
        await sweep().catch(swept)
        stopSweep = runEvery(sweepIntervalMs, sweep, swept)
      }
      const stopFlush = runEvery(
        flushIntervalMs,
        () => flush(),
        () => undefined,
      )
      return async () => {
        await stopFlush()
        await stopSweep?.()
        await flush(true)
      }
    },
    flush,
  }
}
