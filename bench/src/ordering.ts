import { setTimeout as sleep } from 'node:timers/promises'
import { createService, defineEvent, type ServiceMetrics } from '@event-driven/core'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { MongoClient } from 'mongodb'
import { pino } from 'pino'
import { z } from 'zod'
import { deleteStreams, type BenchContext } from './context.ts'
import { cpuSince, median, roundTripCounter, until, withWindow } from './measure.ts'
import { compared, interleaved, type Compared, type Repeated } from './repetitions.ts'
import { fmt, printTable } from './table.ts'

/**
 * One keyed event, one consumer group, five ways. `unordered`: `ordered: false` (one durable,
 * deliveries of one key side by side). `ordered, 20 keys` and `ordered, 1,000 keys`: the default
 * (one durable per partition, one delivery in flight in each). The `2 ms` pair has a handler that
 * awaits 2 ms (I/O-bound) instead of returning at once.
 */
export type OrderingMode =
  | 'unordered'
  | 'ordered, 20 keys'
  | 'ordered, 1,000 keys'
  | 'unordered, 2 ms'
  | 'ordered, 1,000 keys, 2 ms'
const modes: OrderingMode[] = [
  'unordered',
  'ordered, 20 keys',
  'ordered, 1,000 keys',
  'unordered, 2 ms',
  'ordered, 1,000 keys, 2 ms',
]

/** What each mode runs, and the mode its ratios are taken to (the unordered one, same handler). */
const specs: Record<
  OrderingMode,
  { ordered: boolean; keys: number; io: boolean; baseline: OrderingMode; slug: string }
> = {
  unordered: { ordered: false, keys: 1_000, io: false, baseline: 'unordered', slug: 'u' },
  'ordered, 20 keys': { ordered: true, keys: 20, io: false, baseline: 'unordered', slug: 'o20' },
  'ordered, 1,000 keys': {
    ordered: true,
    keys: 1_000,
    io: false,
    baseline: 'unordered',
    slug: 'o1000',
  },
  'unordered, 2 ms': {
    ordered: false,
    keys: 1_000,
    io: true,
    baseline: 'unordered, 2 ms',
    slug: 'u_io',
  },
  'ordered, 1,000 keys, 2 ms': {
    ordered: true,
    keys: 1_000,
    io: true,
    baseline: 'unordered, 2 ms',
    slug: 'o1000_io',
  },
}

/** The part's event: keyed by `key` (event `n` has key `n mod keys`), padded to about `bytes`. */
const KeyedBenchEvent = defineEvent({
  subject: 'Bench.keyed',
  version: 1,
  schema: z.object({ key: z.string(), n: z.number().int(), padding: z.string() }),
  key: (data) => data.key,
})

function keyedData(n: number, key: string, bytes: number) {
  const base = JSON.stringify({ key, n, padding: '' }).length
  return { key, n, padding: 'x'.repeat(Math.max(0, bytes - base)) }
}

export interface OrderingRunResult {
  events: number
  eventsPerSecond: number
  cpuMicrosPerEvent: number
  /** MongoDB commands per event (the group commit's batches: ledger entries, outbox, events). */
  roundTripsPerEvent: number
  /** Most deliveries at once between their handler's start and their ack. */
  maxInFlight: number
  /** Most handler runs at once (a no-op handler returns before the next can start: 1). */
  maxRunning: number
  /** Deliveries with a delivery count above 1 (none expected). */
  redeliveries: number
  /** Ordered only: events each partition's durable was delivered, by partition. */
  partitionEvents?: number[]
}

export type OrderingRun = Repeated<OrderingMode, OrderingRunResult>

export interface OrderingFigures {
  mode: OrderingMode
  baseline: OrderingMode
  ordered: boolean
  keys: number
  handlerMs: number
  /** Medians over the repetitions, ranges, and ratios to the baseline (of medians, and paired). */
  eventsPerSecond: Compared
  cpuMicrosPerEvent: Compared
  roundTripsPerEvent: Compared
  /** Median and lowest–highest of each run's maximum. */
  maxInFlight: { median: number; range: [number, number] }
  maxRunning: { median: number; range: [number, number] }
  /**
   * Ordered only: partitions that got events, and the events of the busiest (the same keys hash
   * to the same partitions in every run, so this is the first repetition's).
   */
  partitionsUsed?: number
  busiestPartitionEvents?: number
}

export interface OrderingResult {
  bytes: number
  events: number
  window: number
  concurrency: number
  partitions: number
  handlerMs: number
  repetitions: number
  figures: OrderingFigures[]
  runs: OrderingRun[]
}

/**
 * A keyed event handled by one consumer group, unordered and ordered (20 and 1,000 keys), with a
 * no-op handler and with one that awaits `handlerMs`, in interleaved repetitions (a warm-up of
 * each mode first). Each run has its own service, stream and database, deleted after it; the heap
 * is collected before each run when `gc` is exposed.
 */
export async function measureOrdering(
  ctx: BenchContext,
  plan: {
    events: number
    warmupEvents: number
    repetitions: number
    bytes: number
    window: number
    concurrency: number
    partitions: number
    handlerMs: number
  },
  log: (line: string) => void,
): Promise<OrderingResult> {
  const runs = await interleaved(modes, plan.repetitions, (mode, repetition) => {
    const warmup = repetition === 0
    const events = warmup ? plan.warmupEvents : plan.events
    log(
      `ordering, ${mode}: ${events} events of ${plan.bytes} B${warmup ? ' (warm-up)' : `, repetition ${repetition} of ${plan.repetitions}`}`,
    )
    return measureMode(ctx, mode, { ...plan, events })
  })
  return {
    bytes: plan.bytes,
    events: plan.events,
    window: plan.window,
    concurrency: plan.concurrency,
    partitions: plan.partitions,
    handlerMs: plan.handlerMs,
    repetitions: plan.repetitions,
    figures: modes.map((mode) => {
      const { ordered, keys, io, baseline } = specs[mode]
      const first = runs.find((r) => r.mode === mode)
      const counts = first?.partitionEvents
      return {
        mode,
        baseline,
        ordered,
        keys,
        handlerMs: io ? plan.handlerMs : 0,
        eventsPerSecond: compared(runs, mode, baseline, (r) => r.eventsPerSecond),
        cpuMicrosPerEvent: compared(runs, mode, baseline, (r) => r.cpuMicrosPerEvent),
        roundTripsPerEvent: compared(runs, mode, baseline, (r) => r.roundTripsPerEvent),
        maxInFlight: spread(runs, mode, (r) => r.maxInFlight),
        maxRunning: spread(runs, mode, (r) => r.maxRunning),
        ...(counts
          ? {
              partitionsUsed: counts.filter((n) => n > 0).length,
              busiestPartitionEvents: Math.max(...counts),
            }
          : {}),
      }
    }),
    runs,
  }
}

async function measureMode(
  ctx: BenchContext,
  mode: OrderingMode,
  plan: {
    events: number
    bytes: number
    window: number
    concurrency: number
    partitions: number
    handlerMs: number
  },
): Promise<OrderingRunResult> {
  globalThis.gc?.()
  const spec = specs[mode]
  const names = ctx.scope(`ordering_${spec.slug}`)
  const mongo = await new MongoClient(ctx.mongodbUrl, { monitorCommands: true }).connect()
  const nc = await connect({ servers: ctx.natsUrl.split(',') })
  let handled = 0
  let running = 0
  let maxRunning = 0
  let inFlight = 0
  let maxInFlight = 0
  let redeliveries = 0
  // Told of each settled delivery right after its ack: the end of its slot in its partition.
  const metrics: ServiceMetrics = {
    handlerRan() {},
    delivered(delivery) {
      if (delivery.outcome === 'handled') inFlight -= 1
      if (delivery.attempt > 1) redeliveries += 1
    },
    published() {},
  }
  try {
    const service = await createService({
      name: 'bench',
      nats: ctx.natsUrl,
      mongodb: mongo,
      database: names.database,
      stream: {
        name: names.stream,
        subjectPrefix: names.subjectPrefix,
        partitions: plan.partitions,
      },
      logger: pino({ level: 'warn' }),
      stopOnSignals: false,
      metrics,
    })
    service.on(
      KeyedBenchEvent,
      { handler: 'measure', concurrency: plan.concurrency, ordered: spec.ordered },
      async () => {
        handled += 1
        inFlight += 1
        maxInFlight = Math.max(maxInFlight, inFlight)
        running += 1
        maxRunning = Math.max(maxRunning, running)
        try {
          if (spec.io) await sleep(plan.handlerMs)
        } finally {
          running -= 1
        }
      },
    )
    await service.start()
    try {
      const op = await service.startOperation({ name: 'bench' })
      const jsm = await jetstreamManager(nc)
      // The group's own durable, and an ordered group's one per partition.
      const partitionDurables = spec.ordered
        ? Array.from({ length: plan.partitions }, (_, p) => `bench_measure_p${p}`)
        : []
      const durables = ['bench_measure', ...partitionDurables]
      const trips = roundTripCounter(mongo)
      const cpuStart = process.cpuUsage()
      const started = performance.now()
      await withWindow(plan.events, plan.window, (n) =>
        op.publish(KeyedBenchEvent, keyedData(n, `key ${n % spec.keys}`, plan.bytes)),
      )
      await until(() => handled >= plan.events, 300_000, `${mode} to handle ${plan.events} events`)
      await until(
        async () => {
          for (const durable of durables) {
            const info = await jsm.consumers.info(names.stream, durable)
            if (info.num_pending !== 0 || info.num_ack_pending !== 0) return false
          }
          return true
        },
        60_000,
        'the last acks',
      )
      const seconds = (performance.now() - started) / 1000
      const cpuMicros = cpuSince(cpuStart)
      trips.stop()
      const partitionEvents = await Promise.all(
        partitionDurables.map(
          async (durable) =>
            (await jsm.consumers.info(names.stream, durable)).delivered.consumer_seq,
        ),
      )
      return {
        events: plan.events,
        eventsPerSecond: plan.events / seconds,
        cpuMicrosPerEvent: cpuMicros / plan.events,
        roundTripsPerEvent: trips.count / plan.events,
        maxInFlight,
        maxRunning,
        redeliveries,
        ...(spec.ordered ? { partitionEvents } : {}),
      }
    } finally {
      await service.stop()
    }
  } finally {
    await nc.close()
    await mongo
      .db(names.database)
      .dropDatabase()
      .finally(() => mongo.close())
    await deleteStreams(ctx)
  }
}

function spread(
  runs: OrderingRun[],
  mode: OrderingMode,
  figure: (run: OrderingRun) => number,
): { median: number; range: [number, number] } {
  const values = runs.filter((r) => r.mode === mode).map(figure)
  return { median: median(values), range: [Math.min(...values), Math.max(...values)] }
}

export function printOrdering(result: OrderingResult): void {
  const cell = (c: Compared) => `${fmt(c.median)} (${fmt(c.range[0])}–${fmt(c.range[1])})`
  const ratio = (c: Compared) => `${fmt(c.ratio, 2)}× (${fmt(c.paired.median, 2)}×)`
  const most = (s: { median: number; range: [number, number] }) =>
    s.range[0] === s.range[1] ? fmt(s.median) : `${fmt(s.median)} (${s.range[0]}–${s.range[1]})`
  const header = [
    'consumer group',
    'handler',
    'events/s',
    'ratio (paired)',
    'Node CPU µs/event',
    'ratio (paired)',
    'MongoDB round trips/event',
    'in flight at once, max',
    'handlers running, max',
    'partitions used · busiest',
  ]
  const rows = result.figures.map((f) => [
    f.mode.replace(/, \d+ ms$/, ''),
    f.handlerMs ? `awaits ${f.handlerMs} ms` : 'no-op',
    cell(f.eventsPerSecond),
    f.mode === f.baseline ? '' : ratio(f.eventsPerSecond),
    cell(f.cpuMicrosPerEvent),
    f.mode === f.baseline ? '' : ratio(f.cpuMicrosPerEvent),
    fmt(f.roundTripsPerEvent.median, 3),
    most(f.maxInFlight),
    most(f.maxRunning),
    f.partitionsUsed === undefined
      ? ''
      : `${f.partitionsUsed} · ${fmt(f.busiestPartitionEvents!)} events`,
  ])
  printTable(
    header,
    rows,
    `Ordering, a keyed event at ${result.bytes} B, ${fmt(result.events)} events × ${result.repetitions} interleaved repetitions, ${result.window} publishes in flight, concurrency ${result.concurrency}, ${result.partitions} partitions (median, lowest–highest; ratio of medians to unordered with the same handler, and the median of each repetition's ratio; in flight: from the handler's start to the ack):`,
  )
}
