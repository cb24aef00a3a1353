import type { BenchContext } from './context.ts'
import {
  measureAppends,
  measureContention,
  measureGrowth,
  type AppendsRun,
  type ContentionRun,
  type GrowthRun,
} from './event-store-scenarios.ts'
import { coreStore, emmettStore, type OpenStore } from './event-store-stores.ts'
import { compared, interleaved, type Compared, type Repeated } from './repetitions.ts'
import { fmt, printTable } from './table.ts'

/**
 * `publish`: `op.publish` of the counter's event (the baseline: recorded, published, no stream).
 * `core`: `op.appendToStream` of it. `emmett`: Emmett's MongoDB event store's `appendToStream`.
 */
export type AppendMode = 'publish' | 'core' | 'emmett'
const modes: AppendMode[] = ['publish', 'core', 'emmett']

export interface EventStorePlan {
  /** Appends without contention: single-event appends, over `streams` streams, `window` at once. */
  appends: number
  warmupAppends: number
  streams: number
  window: number
  repetitions: number
  /** Contention: `writers` instances on one stream, each running `commandsPerWriter` commands. */
  writers: number
  commandsPerWriter: number
  maxAttempts: number
  /**
   * One stream grown to `events` by each store, the rate taken over the first and the last
   * `edge` appends. Emmett's is smaller: each of its appends reads and rewrites the stream's one
   * document, so its time grows with the stream (0.25 s per append at 2,000 events here).
   */
  growth: Record<'core' | 'emmett', { events: number; edge: number }>
}

export type AppendsFigures = {
  mode: AppendMode
  appendsPerSecond: Compared
  roundTripsPerAppend: Compared
}

export interface EventStoreResult {
  plan: EventStorePlan
  appends: { figures: AppendsFigures[]; runs: Repeated<AppendMode, AppendsRun>[] }
  contention: { core: ContentionRun; emmett: ContentionRun }
  growth: { core: GrowthRun; emmett: GrowthRun }
  /** How long each scenario took, both stores, setup included. */
  seconds: { appends: number; contention: number; growth: number; total: number }
}

/**
 * The core's event-sourced streams against a plain publish of the same event and against
 * Emmett's MongoDB event store, on the same servers: appends to many streams (interleaved
 * repetitions, a warm-up of each first), writers contending for one stream, one stream growing.
 * Each run has a database (and the core a JetStream stream) of its own.
 */
export async function measureEventStore(
  ctx: BenchContext,
  plan: EventStorePlan,
  log: (line: string) => void,
): Promise<EventStoreResult> {
  const started = performance.now()
  const lap = lapTimer()
  const runs = await interleaved(modes, plan.repetitions, async (mode, repetition) => {
    const warmup = repetition === 0
    const appends = warmup ? plan.warmupAppends : plan.appends
    log(
      `event store, ${mode}: ${appends} appends over ${plan.streams} streams, ${plan.window} at once${warmup ? ' (warm-up)' : `, repetition ${repetition} of ${plan.repetitions}`}`,
    )
    const names = ctx.scope(`es_${mode}`)
    const store = await (
      mode === 'emmett' ? emmettStore(ctx, names.database) : coreStore(ctx, names)
    )()
    try {
      return await measureAppends(store, {
        appends,
        streams: plan.streams,
        window: plan.window,
        run: `r${repetition}`,
        publish: mode === 'publish',
      })
    } finally {
      await store.close()
    }
  })
  const figures = modes.map((mode) => ({
    mode,
    appendsPerSecond: compared(runs, mode, 'publish', (r) => r.appendsPerSecond),
    roundTripsPerAppend: compared(runs, mode, 'publish', (r) => r.roundTripsPerAppend),
  }))
  const appendsSeconds = lap()

  const contention = async (store: string, open: OpenStore) => {
    log(
      `event store, ${store}: ${plan.writers} writers on one stream, ${plan.commandsPerWriter} commands each`,
    )
    return measureContention(open, plan)
  }
  const contendedCore = ctx.scope('es_contended_core')
  const contendedEmmett = ctx.scope('es_contended_emmett')
  const contended = {
    core: await contention('core', coreStore(ctx, contendedCore)),
    emmett: await contention('emmett', emmettStore(ctx, contendedEmmett.database)),
  }
  const contentionSeconds = lap()

  const growth = async (store: 'core' | 'emmett', open: OpenStore) => {
    const { events, edge } = plan.growth[store]
    log(`event store, ${store}: one stream grown to ${events} events, one append at a time`)
    const opened = await open()
    try {
      // The core's stream is also read at the size Emmett's reaches, so both have a read at it.
      const readAt = store === 'core' ? [plan.growth.emmett.events] : []
      return await measureGrowth(opened, { events, edge, readAt, log })
    } finally {
      await opened.close()
    }
  }
  const grown = {
    core: await growth('core', coreStore(ctx, ctx.scope('es_grown_core'))),
    emmett: await growth('emmett', emmettStore(ctx, ctx.scope('es_grown_emmett').database)),
  }
  return {
    plan,
    appends: { figures, runs },
    contention: contended,
    growth: grown,
    seconds: {
      appends: appendsSeconds,
      contention: contentionSeconds,
      growth: lap(),
      total: (performance.now() - started) / 1000,
    },
  }
}

/** Seconds since the last call (or since it was made). */
function lapTimer(): () => number {
  let last = performance.now()
  return () => {
    const now = performance.now()
    const seconds = (now - last) / 1000
    last = now
    return seconds
  }
}

export function printEventStore(result: EventStoreResult): void {
  const { plan } = result
  const cell = (c: Compared, digits = 0) =>
    c.range[0] === c.range[1]
      ? fmt(c.median, digits)
      : `${fmt(c.median, digits)} (${fmt(c.range[0], digits)}–${fmt(c.range[1], digits)})`
  const ratio = (c: Compared) => `${fmt(c.ratio, 2)}× (${fmt(c.paired.median, 2)}×)`
  printTable(
    ['store', 'appends/s', 'ratio to publish (paired)', 'MongoDB round trips/append'],
    result.appends.figures.map((f) => [
      f.mode === 'publish'
        ? 'op.publish (baseline)'
        : f.mode === 'core'
          ? 'core: op.appendToStream'
          : 'Emmett: appendToStream',
      cell(f.appendsPerSecond),
      f.mode === 'publish' ? '' : ratio(f.appendsPerSecond),
      cell(f.roundTripsPerAppend, 2),
    ]),
    `Event store, appends without contention: ${fmt(plan.appends)} single-event appends at known positions over ${fmt(plan.streams)} streams, ${plan.window} at once, × ${plan.repetitions} interleaved repetitions (median, lowest–highest; ratio of medians to publish, and the median of each repetition's ratio):`,
  )
  const failed = (c: ContentionRun) =>
    Object.entries(c.failed)
      .map(([name, n]) => `${n} ${name}`)
      .join(', ') || '0'
  printTable(
    [
      'store',
      'appends acknowledged',
      'appends/s: acknowledged · kept',
      'conflicts/append',
      'MongoDB round trips/append',
      'commands failed',
      'events stored · stream position',
      'acknowledged appends lost',
    ],
    (['core', 'emmett'] as const).map((store) => {
      const c = result.contention[store]
      return [
        store === 'core' ? 'core: handleCommand' : 'Emmett: CommandHandler',
        fmt(c.acknowledged),
        `${fmt(c.appendsPerSecond)} · ${fmt((c.acknowledged - c.acknowledgedLost) / c.seconds)}`,
        fmt(c.conflictsPerAppend, 2),
        fmt(c.roundTripsPerAppend, 1),
        failed(c),
        `${fmt(c.storedEvents)} · ${fmt(c.streamPosition)}`,
        fmt(c.acknowledgedLost),
      ]
    }),
    `Event store, contention: ${plan.writers} writers (each its own connections) on one stream, ${plan.commandsPerWriter} commands each, read-decide-append retried at once on a conflict (at most ${plan.maxAttempts} decisions):`,
  )
  printTable(
    [
      'store',
      'events',
      'appends/s: first · last (appends each)',
      'first / last',
      'new stream after',
      'readStream ms (at events)',
      'aggregateStream ms',
    ],
    (['core', 'emmett'] as const).map((store) => {
      const g = result.growth[store]
      return [
        store === 'core' ? 'core' : 'Emmett',
        fmt(g.events),
        `${fmt(g.firstPerSecond)} · ${fmt(g.lastPerSecond)} (${fmt(g.edge)})`,
        `${fmt(g.slowdown, 2)}×`,
        `${fmt(g.newStreamPerSecond)}/s`,
        g.reads.map((r) => `${fmt(r.readMs)} (${fmt(r.events)})`).join(' · '),
        g.reads.map((r) => fmt(r.aggregateMs)).join(' · '),
      ]
    }),
    'Event store, one stream growing by single-event appends at the known position, one at a time; then the whole stream read and folded (median of 3), and as many appends as at each end to a new stream of the same store (the control):',
  )
  const core = result.appends.figures.find((f) => f.mode === 'core')!
  console.log(
    `core appends vs publish: ${fmt(core.appendsPerSecond.ratio, 2)}× the events/s (${fmt(core.appendsPerSecond.paired.median, 2)}× paired)`,
  )
  const grown = result.growth.core
  console.log(
    `${grown.slowdown <= 2 ? 'met   ' : 'missed'}  core's append rate, first ${fmt(grown.edge)} over last ${fmt(grown.edge)} of ${fmt(grown.events)}: ${fmt(grown.slowdown, 2)}× (target: within 2×)`,
  )
  console.log(`event-store part: ${fmt(result.seconds.total)} s`)
}
