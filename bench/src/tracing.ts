import { openTelemetryTracing, type ServiceTracing } from '@event-driven/core'
import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BatchSpanProcessor, InMemorySpanExporter, TracerProvider } from '@opentelemetry/sdk-trace'
import type { BenchContext } from './context.ts'
import { median } from './measure.ts'
import { compared, interleaved, type Repeated } from './repetitions.ts'
import { fmt, printTable } from './table.ts'
import { measureThroughput, type ThroughputResult } from './throughput.ts'

/**
 * `off`: no `tracing` option (the default). `noop`: `openTelemetryTracing()` with no SDK
 * registered, so every span is non-recording. `on`: an SDK as an application sets one up
 * (the async context manager, a `BatchSpanProcessor` with its defaults) exporting to memory.
 */
export type TracingMode = 'off' | 'noop' | 'on'
const modes: TracingMode[] = ['off', 'on', 'noop']

/** Spans the exporter got per event (`on` only). */
export type TracingRun = Repeated<TracingMode, ThroughputResult & { spansPerEvent?: number }>

export interface TracingFigures {
  mode: TracingMode
  /** Medians over the repetitions, and each one's ratio to `off`'s median. */
  eventsPerSecond: number
  cpuMicrosPerEvent: number
  allocatedBytesPerEvent: number
  eventsPerSecondRatio: number
  cpuRatio: number
  allocatedRatio: number
  /**
   * Ratios to `off` within each repetition (the runs next to each other), median and lowest to
   * highest: less moved by the machine's drift than the ratio of medians.
   */
  pairedEventsPerSecondRatio: { median: number; range: [number, number] }
  pairedCpuRatio: { median: number; range: [number, number] }
  /** Lowest and highest over the repetitions. */
  eventsPerSecondRange: [number, number]
  cpuMicrosRange: [number, number]
  allocatedBytesRange: [number, number]
  spansPerEvent?: number
}

export interface TracingResult {
  bytes: number
  events: number
  window: number
  repetitions: number
  spanProcessor: 'BatchSpanProcessor (defaults) → InMemorySpanExporter'
  figures: TracingFigures[]
  runs: TracingRun[]
}

/**
 * The framework pipeline with tracing off, on, and through the API with no SDK, in interleaved
 * repetitions (`interleaved`: off, on, noop; on, noop, off; …, after a warm-up of each); the heap
 * is collected before each run when `gc` is exposed.
 */
export async function measureTracing(
  ctx: BenchContext,
  plan: {
    events: number
    warmupEvents: number
    repetitions: number
    bytes: number
    window: number
  },
  log: (line: string) => void,
): Promise<TracingResult> {
  const runs = await interleaved(modes, plan.repetitions, (mode, repetition) => {
    const warmup = repetition === 0
    const events = warmup ? plan.warmupEvents : plan.events
    log(
      `tracing ${mode}: ${events} events of ${plan.bytes} B${warmup ? ' (warm-up)' : `, repetition ${repetition} of ${plan.repetitions}`}`,
    )
    return measureMode(ctx, mode, { events, bytes: plan.bytes, window: plan.window })
  })
  return {
    bytes: plan.bytes,
    events: plan.events,
    window: plan.window,
    repetitions: plan.repetitions,
    spanProcessor: 'BatchSpanProcessor (defaults) → InMemorySpanExporter',
    figures: summarize(runs),
    runs,
  }
}

async function measureMode(
  ctx: BenchContext,
  mode: TracingMode,
  options: { events: number; bytes: number; window: number },
): Promise<ThroughputResult & { spansPerEvent?: number }> {
  // The spans an `on` run kept are garbage after it: collected here, not during the next run.
  globalThis.gc?.()
  if (mode === 'off') return measureThroughput(ctx, 'framework', options)
  if (mode === 'noop') {
    const tracing = openTelemetryTracing()
    return measureThroughput(ctx, 'framework', { ...options, tracing })
  }
  const sdk = inMemorySdk()
  try {
    const result = await measureThroughput(ctx, 'framework', { ...options, tracing: sdk.tracing })
    return { ...result, spansPerEvent: (await sdk.exported()) / options.events }
  } finally {
    await sdk.close()
  }
}

/**
 * Registered for one run and removed after it, so that `off` and `noop` runs have no context
 * manager and no provider: nothing registered, as the issue asks of them.
 */
function inMemorySdk(): {
  tracing: ServiceTracing
  exported(): Promise<number>
  close(): Promise<void>
} {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  const exporter = new InMemorySpanExporter()
  const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] })
  return {
    tracing: openTelemetryTracing({ tracerProvider: provider }),
    async exported() {
      await provider.forceFlush()
      return exporter.getFinishedSpans().length
    },
    async close() {
      await provider.shutdown()
      context.disable()
    },
  }
}

function summarize(runs: TracingRun[]): TracingFigures[] {
  return (['off', 'noop', 'on'] as const).map((mode) => {
    const eps = compared(runs, mode, 'off', (r) => r.eventsPerSecond)
    const cpu = compared(runs, mode, 'off', (r) => r.cpuMicrosPerEvent)
    const allocated = compared(runs, mode, 'off', (r) => r.allocatedBytesPerEvent)
    const spans = runs.flatMap((r) =>
      r.mode === mode && r.spansPerEvent !== undefined ? [r.spansPerEvent] : [],
    )
    return {
      mode,
      eventsPerSecond: eps.median,
      cpuMicrosPerEvent: cpu.median,
      allocatedBytesPerEvent: allocated.median,
      eventsPerSecondRatio: eps.ratio,
      cpuRatio: cpu.ratio,
      allocatedRatio: allocated.ratio,
      pairedEventsPerSecondRatio: eps.paired,
      pairedCpuRatio: cpu.paired,
      eventsPerSecondRange: eps.range,
      cpuMicrosRange: cpu.range,
      allocatedBytesRange: allocated.range,
      ...(spans.length ? { spansPerEvent: median(spans) } : {}),
    }
  })
}

export function printTracing(result: TracingResult): void {
  const header = [
    'tracing',
    'events/s',
    'ratio (paired)',
    'Node CPU µs/event',
    'ratio (paired)',
    'heap bytes/event',
    'ratio',
    'spans/event',
  ]
  const rows = result.figures.map((f) => [
    f.mode,
    `${fmt(f.eventsPerSecond)} (${fmt(f.eventsPerSecondRange[0])}–${fmt(f.eventsPerSecondRange[1])})`,
    `${fmt(f.eventsPerSecondRatio, 2)}× (${fmt(f.pairedEventsPerSecondRatio.median, 2)}×)`,
    `${fmt(f.cpuMicrosPerEvent)} (${fmt(f.cpuMicrosRange[0])}–${fmt(f.cpuMicrosRange[1])})`,
    `${fmt(f.cpuRatio, 2)}× (${fmt(f.pairedCpuRatio.median, 2)}×)`,
    `${fmt(f.allocatedBytesPerEvent)} (${fmt(f.allocatedBytesRange[0])}–${fmt(f.allocatedBytesRange[1])})`,
    `${fmt(f.allocatedRatio, 2)}×`,
    f.spansPerEvent === undefined ? '' : fmt(f.spansPerEvent, 2),
  ])
  printTable(
    header,
    rows,
    `Tracing, framework pipeline at ${result.bytes} B, ${fmt(result.events)} events × ${result.repetitions} interleaved repetitions (median, lowest–highest; ratio of medians to off, and the median of each repetition's ratio):`,
  )
}
