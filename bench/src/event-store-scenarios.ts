import { median } from './measure.ts'
import type { BenchEventStore, CounterData, OpenStore } from './event-store-stores.ts'

// The three scenarios of the event-store part, written once and run against each store
// (`event-store-stores.ts`): appends to many streams, writers contending for one, one growing.

export interface AppendsRun {
  appends: number
  streams: number
  window: number
  seconds: number
  appendsPerSecond: number
  /** MongoDB commands per append, the store's background work (relay, moves) included. */
  roundTripsPerAppend: number
}

/**
 * `appends` single-event appends at known positions over `streams` streams, `window` appenders
 * at once: appender `w` owns the streams `s ≡ w (mod window)` and appends to them in turn, so no
 * two appends of one stream are ever in flight and none conflicts. `publish` instead of appending
 * gives the baseline (the same events, same window, no stream).
 */
export async function measureAppends(
  store: BenchEventStore & { publish?: (data: CounterData) => Promise<void> },
  plan: { appends: number; streams: number; window: number; run: string; publish?: boolean },
): Promise<AppendsRun> {
  const positions = new Array<number>(plan.streams).fill(0)
  const before = store.roundTrips()
  const started = performance.now()
  await Promise.all(
    Array.from({ length: plan.window }, async (_, w) => {
      for (let i = w; i < plan.appends; i += plan.window) {
        const s = i % plan.streams
        const data = { by: 1, writer: `w${w}`, n: i }
        if (plan.publish) await store.publish!(data)
        else positions[s] = await store.append(`${plan.run}-${s}`, positions[s]!, data)
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  return {
    appends: plan.appends,
    streams: plan.streams,
    window: plan.window,
    seconds,
    appendsPerSecond: plan.appends / seconds,
    roundTripsPerAppend: (store.roundTrips() - before) / plan.appends,
  }
}

export interface ContentionRun {
  writers: number
  commandsPerWriter: number
  maxAttempts: number
  /** Commands that resolved: appends the store acknowledged. */
  acknowledged: number
  /** Commands that gave up (a conflict on every attempt) or failed otherwise, by error name. */
  failed: Record<string, number>
  /** Decisions that did not end in an append: each is a conflict (a read and a decision again). */
  conflicts: number
  conflictsPerAppend: number
  seconds: number
  appendsPerSecond: number
  /** MongoDB commands of all writers per acknowledged append, conflicts' included. */
  roundTripsPerAppend: number
  /** Opening the writers (not timed in `seconds`). */
  openSeconds: number
  /** Events the stream holds once every writer is done, read back by the store itself. */
  storedEvents: number
  /** The stream's position as that read gives it (the store's own count of its events). */
  streamPosition: number
  /** Acknowledged appends whose event is not in the stream. */
  acknowledgedLost: number
}

/**
 * `writers` instances of the store (each its own connections), all on one stream, each running
 * `commandsPerWriter` commands one after the other (read, decide one event, append at the
 * position read; on a conflict, again). Then the stream is read and every acknowledged append
 * looked for in it.
 */
export async function measureContention(
  open: OpenStore,
  plan: { writers: number; commandsPerWriter: number; maxAttempts: number },
): Promise<ContentionRun> {
  const stores: BenchEventStore[] = []
  try {
    const opening = performance.now()
    for (let w = 0; w < plan.writers; w++) stores.push(await open())
    const openSeconds = (performance.now() - opening) / 1000
    const tripsBefore = sum(stores.map((s) => s.roundTrips()))
    const stream = 'contended'
    let decisions = 0
    const acknowledged = new Set<string>()
    const failed: Record<string, number> = {}
    const started = performance.now()
    await Promise.all(
      stores.map(async (store, w) => {
        for (let n = 0; n < plan.commandsPerWriter; n++) {
          try {
            await store.command(stream, { by: 1, writer: `w${w}`, n }, plan.maxAttempts, () => {
              decisions += 1
            })
            acknowledged.add(`w${w}/${n}`)
          } catch (error) {
            const name = error instanceof Error ? error.name : typeof error
            failed[name] = (failed[name] ?? 0) + 1
          }
        }
      }),
    )
    const seconds = (performance.now() - started) / 1000
    const trips = sum(stores.map((s) => s.roundTrips())) - tripsBefore
    const stored = await stores[0]!.read(stream)
    const found = new Set(stored.events.map((d) => `${d.writer}/${d.n}`))
    const conflicts = decisions - acknowledged.size
    return {
      writers: plan.writers,
      commandsPerWriter: plan.commandsPerWriter,
      maxAttempts: plan.maxAttempts,
      acknowledged: acknowledged.size,
      failed,
      conflicts,
      conflictsPerAppend: conflicts / Math.max(1, acknowledged.size),
      seconds,
      appendsPerSecond: acknowledged.size / seconds,
      roundTripsPerAppend: trips / Math.max(1, acknowledged.size),
      openSeconds,
      storedEvents: stored.events.length,
      streamPosition: stored.position,
      acknowledgedLost: [...acknowledged].filter((key) => !found.has(key)).length,
    }
  } finally {
    await Promise.all(stores.map((s) => s.close()))
  }
}

export interface GrowthRun {
  events: number
  /** Appends timed at each end. */
  edge: number
  /** Appends/s over the first `edge` appends, and over the last `edge`. */
  firstPerSecond: number
  lastPerSecond: number
  /** First over last: how many times slower appending got as the stream grew (1: not at all). */
  slowdown: number
  /**
   * Appends/s of `edge` appends to a new stream of the same store right after: the control. Near
   * `lastPerSecond`, the slowdown came from elsewhere (collections grown, the machine's load)
   * than the stream's length; near `firstPerSecond`, from the stream's length.
   */
  newStreamPerSecond: number
  /** Appending all of them (reads on the way not included). */
  seconds: number
  /** The whole stream read, and folded, when it had `events` events: median of 3, ms. */
  reads: StreamReadTimes[]
}

export interface StreamReadTimes {
  events: number
  readMs: number
  aggregateMs: number
  /** Events the last read returned, and the last fold counted (both `events`, or a bug). */
  read: number
  aggregated: number
}

/**
 * One stream grown to `events` events by single-event appends one after the other, each at the
 * position the last one returned; each append timed. When the stream has a size in `readAt`,
 * and at the end, it is read whole and folded, three times each (not timed as appends). Then
 * `edge` appends to a new stream, the control.
 */
export async function measureGrowth(
  store: BenchEventStore,
  plan: { events: number; edge: number; readAt: number[]; log: (line: string) => void },
): Promise<GrowthRun> {
  const stream = 'grown'
  const durations: number[] = []
  const reads: StreamReadTimes[] = []
  let position = 0
  for (let n = 1; n <= plan.events; n++) {
    const called = performance.now()
    position = await store.append(stream, position, { by: 1, writer: 'w0', n })
    durations.push(performance.now() - called)
    if (n % 2_000 === 0) plan.log(`  ${n} events`)
    if (plan.readAt.includes(n) || n === plan.events) reads.push(await timeReads(store, stream, n))
  }
  const control: number[] = []
  position = 0
  for (let n = 1; n <= plan.edge; n++) {
    const called = performance.now()
    position = await store.append(`${stream}-control`, position, { by: 1, writer: 'w0', n })
    control.push(performance.now() - called)
  }
  const rate = (ms: number[]) => (ms.length * 1000) / sum(ms)
  const firstPerSecond = rate(durations.slice(0, plan.edge))
  const lastPerSecond = rate(durations.slice(-plan.edge))
  return {
    events: plan.events,
    edge: plan.edge,
    firstPerSecond,
    lastPerSecond,
    slowdown: firstPerSecond / lastPerSecond,
    newStreamPerSecond: rate(control),
    seconds: sum(durations) / 1000,
    reads,
  }
}

async function timeReads(
  store: BenchEventStore,
  stream: string,
  events: number,
): Promise<StreamReadTimes> {
  const readMs: number[] = []
  const aggregateMs: number[] = []
  let read = 0
  let aggregated = 0
  for (let i = 0; i < 3; i++) {
    let at = performance.now()
    read = (await store.read(stream)).events.length
    readMs.push(performance.now() - at)
    at = performance.now()
    aggregated = await store.aggregate(stream)
    aggregateMs.push(performance.now() - at)
  }
  return { events, readMs: median(readMs), aggregateMs: median(aggregateMs), read, aggregated }
}

function sum(values: Iterable<number>): number {
  let total = 0
  for (const v of values) total += v
  return total
}
