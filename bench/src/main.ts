// pnpm bench [--quick] [--history=N]
// [--only=core|tracing|cluster|ordering|reads|gateway|restart|event-store|flow-read]:
// the core against a raw pipeline written with the same clients, the core with tracing off, on and
// without an SDK, the core on one nats-server against a three-node cluster (R1, R3), a keyed
// event's consumer group ordered against unordered, the product's reads as history grows and after
// retention, gateway mutations against a plain yoga resolver, restart-to-ready, event-sourced
// streams' appends against a publish and against Emmett's MongoDB event store, the dashboard's
// flow read against the flow_stats layout before it; on the same
// servers, in one run. Prints tables and writes bench/results/latest(-quick)(-<part>).json.
import { writeFile } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import { join } from 'node:path'
import { benchContext, cleanup, serverVersions } from './context.ts'
import { drain, fillBacklog, startInstance } from './instances.ts'
import { measureLatency, type LatencyResult } from './latency.ts'
import { benchServers } from './servers.ts'
import { measureThroughput, type ThroughputResult } from './throughput.ts'
import { measureReads, printReads, type ReadsResult } from './reads.ts'
import { measureRestart, printRestart, type RestartResult } from './restart.ts'
import { measureTracing, printTracing, type TracingResult } from './tracing.ts'
import { measureCluster, printCluster, type ClusterResult } from './cluster.ts'
import { measureOrdering, printOrdering, type OrderingResult } from './ordering.ts'
import { fmt, printTable } from './table.ts'
import { measureEventStore, printEventStore, type EventStoreResult } from './event-store.ts'
import { measureFlowRead, printFlowRead, type FlowReadResult } from './flow-read.ts'
import {
  measureBaselineGateway,
  measureBlogGateway,
  printGateway,
  type GatewayResult,
} from './gateway.ts'

const quick = process.argv.includes('--quick')
const plan = quick
  ? { events: 400, window: 64, latencySeconds: 2, backlog: 5_000, scalingEvents: 300, cpuMs: 2 }
  : {
      events: 5_000,
      window: 64,
      latencySeconds: 10,
      backlog: 100_000,
      scalingEvents: 2_000,
      cpuMs: 2,
    }
const payloads = [200, 4_096]
// Tracing off, on and with no SDK: interleaved repetitions of the framework pipeline at 200 B.
const tracingPlan = quick
  ? { events: 1_000, warmupEvents: 200, repetitions: 6, bytes: 200, window: 64 }
  : { events: 5_000, warmupEvents: 1_000, repetitions: 6, bytes: 200, window: 64 }
// One nats-server against a three-node cluster of the bench's own, the stream on one node and on
// three: interleaved repetitions of the framework pipeline at 200 B, then publishes one at a time.
const clusterPlan = {
  ...(quick
    ? { events: 1_000, warmupEvents: 200, repetitions: 3, serialPublishes: 50 }
    : { events: 5_000, warmupEvents: 1_000, repetitions: 6, serialPublishes: 100 }),
  bytes: 200,
  window: 64,
}
// A keyed event's consumer group unordered, then ordered with 20 and with 1,000 keys (16
// partitions), a no-op handler and one awaiting 2 ms: interleaved repetitions at 200 B.
const orderingPlan = {
  ...(quick
    ? { events: 1_000, warmupEvents: 200, repetitions: 3 }
    : { events: 5_000, warmupEvents: 1_000, repetitions: 6 }),
  bytes: 200,
  window: 64,
  concurrency: 64,
  partitions: 16,
  handlerMs: 2,
}
// Event-sourced streams: appends to many streams (against op.publish and Emmett's MongoDB event
// store), 20 writers on one stream, one stream grown to 10,000 events (Emmett's to 1,000: its
// appends slow down as its stream grows).
const eventStorePlan = {
  ...(quick
    ? { appends: 1_000, warmupAppends: 200, repetitions: 1, commandsPerWriter: 5 }
    : { appends: 3_000, warmupAppends: 500, repetitions: 3, commandsPerWriter: 10 }),
  growth: quick
    ? { core: { events: 2_000, edge: 500 }, emmett: { events: 200, edge: 50 } }
    : { core: { events: 10_000, edge: 500 }, emmett: { events: 1_000, edge: 100 } },
  streams: 1_024,
  window: 64,
  writers: 20,
  maxAttempts: 50,
}
// The dashboard's flow read on flow_stats as 10 busy edges on 3 instances leave it, kept 2 days
// (6 hours with --quick: the old layout's documents take long to write), against the old layout.
const flowReadPlan = { keptHours: quick ? 6 : 48, edges: 10, instances: 3 }
// Events in each history the reads are measured on, and the older history aged out before the
// last one. `--history=1000000` adds a history of that size (the 1M run: local only, over 2 h).
const historyFlag = process.argv.find((a) => a.startsWith('--history='))?.slice(10)
const histories = {
  sizes: [1_000, quick ? 10_000 : 100_000, ...(historyFlag ? [Number(historyFlag)] : [])],
  agedOut: historyFlag ? Number(historyFlag) : quick ? 10_000 : 100_000,
}
// `--only=core|tracing|cluster|ordering|reads|gateway|restart|event-store|flow-read` runs one part.
const parts = [
  'core',
  'tracing',
  'cluster',
  'ordering',
  'reads',
  'gateway',
  'restart',
  'event-store',
  'flow-read',
]
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7)
if (only !== undefined && !parts.includes(only)) {
  process.stderr.write(`--only takes one of ${parts.join(', ')}, not "${only}"\n`)
  process.exit(2)
}
if (historyFlag !== undefined && !(Number(historyFlag) >= 1_000)) {
  process.stderr.write(
    `--history takes a number of events of at least 1000, not "${historyFlag}"\n`,
  )
  process.exit(2)
}
const runs = (part: string) => only === undefined || only === part
const rates = [200, 500]

const servers = benchServers()
const ctx = benchContext(servers.natsUrl, servers.mongodbUrl)
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`)

try {
  log(`${quick ? 'quick' : 'full'} run on ${availableParallelism()} cores; prefix ${ctx.prefix}`)
  const versions = await serverVersions(ctx)

  const core = runs('core') ? await measureCore() : undefined
  let tracing: TracingResult | undefined
  if (runs('tracing')) {
    tracing = await measureTracing(ctx, tracingPlan, log)
    printTracing(tracing)
  }
  let cluster: ClusterResult | undefined
  if (runs('cluster')) {
    cluster = await measureCluster(ctx, servers.env, clusterPlan, log)
    printCluster(cluster)
  }
  let ordering: OrderingResult | undefined
  if (runs('ordering')) {
    ordering = await measureOrdering(ctx, orderingPlan, log)
    printOrdering(ordering)
  }
  const reads = runs('reads') ? await measureAllReads() : undefined
  const gateway = runs('gateway') ? await measureGateway() : undefined
  let restart: RestartResult | undefined
  if (runs('restart')) {
    restart = await measureRestart(ctx, quick ? 10_000 : 100_000, log)
    printRestart(restart)
  }
  let eventStore: EventStoreResult | undefined
  if (runs('event-store')) {
    eventStore = await measureEventStore(ctx, eventStorePlan, log)
    printEventStore(eventStore)
  }
  let flowRead: FlowReadResult | undefined
  if (runs('flow-read')) {
    flowRead = await measureFlowRead(ctx, flowReadPlan, log)
    printFlowRead(flowRead)
  }
  const results = {
    ...core,
    tracing,
    cluster,
    ordering,
    reads,
    gateway,
    restart,
    eventStore,
    flowRead,
  }
  const name = `latest${quick ? '-quick' : ''}${only ? `-${only}` : ''}.json`
  const file = join(import.meta.dirname, '../results', name)
  await writeFile(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), quick, plan, machine: { cores: availableParallelism(), cpu: cpus()[0]?.model, node: process.version }, servers: versions, ...results }, null, 2)}\n`,
  )
  log(`written to ${file}`)
} finally {
  await cleanup(ctx).catch((error: unknown) => log(`cleanup failed: ${String(error)}`))
  servers.stop()
}

async function measureCore() {
  const throughput: ThroughputResult[] = []
  for (const bytes of payloads) {
    for (const pipeline of ['raw', 'framework'] as const) {
      log(`throughput: ${pipeline}, ${plan.events} events of ${bytes} B, ${plan.window} in flight`)
      throughput.push(
        await measureThroughput(ctx, pipeline, { events: plan.events, bytes, window: plan.window }),
      )
    }
  }

  const latency: LatencyResult[] = []
  for (const ratePerSecond of rates) {
    for (const pipeline of ['raw', 'framework'] as const) {
      log(`latency: ${pipeline} at ${ratePerSecond}/s for ${plan.latencySeconds} s`)
      latency.push(
        await measureLatency(ctx, pipeline, {
          ratePerSecond,
          seconds: plan.latencySeconds,
          bytes: 200,
        }),
      )
    }
  }

  log(`backlog: ${plan.backlog} events, then one consumer instance drains them`)
  const backlogNames = ctx.scope('backlog')
  await fillBacklog(ctx.natsUrl, ctx.mongodbUrl, backlogNames, plan.backlog, 200)
  const drainer = startInstance(ctx, backlogNames, 0)
  const backlogSeconds = await drain(ctx.natsUrl, backlogNames, [drainer], plan.backlog)
  const backlogReport = await drainer.stop()

  const scaling: Record<number, number> = {}
  for (const count of [1, 2]) {
    log(`scaling: ${count} instance(s), ${plan.scalingEvents} events of ${plan.cpuMs} ms CPU each`)
    const names = ctx.scope(`scale${count}`)
    await fillBacklog(ctx.natsUrl, ctx.mongodbUrl, names, plan.scalingEvents, 200)
    const instances = Array.from({ length: count }, () => startInstance(ctx, names, plan.cpuMs))
    scaling[count] = await drain(ctx.natsUrl, names, instances, plan.scalingEvents)
    await Promise.all(instances.map((i) => i.stop()))
  }

  return summarize({ throughput, latency, backlogSeconds, backlogReport, scaling })
}

async function measureGateway(): Promise<GatewayResult[]> {
  const gatewayPlan = { seconds: quick ? 4 : 15, inFlight: 32 }
  const results = [
    await measureBaselineGateway(ctx, gatewayPlan, log),
    await measureBlogGateway(ctx, gatewayPlan, log),
  ]
  printGateway(results)
  return results
}

async function measureAllReads(): Promise<ReadsResult[]> {
  const count = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1_000}k`)
  const results: ReadsResult[] = []
  for (const events of histories.sizes) {
    results.push(await measureReads(ctx, servers.s3, { events, label: count(events), log }))
  }
  results.push(
    await measureReads(ctx, servers.s3, {
      events: 1_000,
      agedOut: histories.agedOut,
      label: `1k after ${count(histories.agedOut)} aged out`,
      log,
    }),
  )
  printReads(results)
  return results
}

function summarize(input: {
  throughput: ThroughputResult[]
  latency: LatencyResult[]
  backlogSeconds: number
  backlogReport: { handled: number; maxRssMB: number }
  scaling: Record<number, number>
}) {
  const rows: [string, string, string, string, string][] = []
  const targets: { figure: string; value: number; target: string; met: boolean }[] = []
  for (const bytes of payloads) {
    const raw = input.throughput.find((t) => t.bytes === bytes && t.pipeline === 'raw')!
    const fw = input.throughput.find((t) => t.bytes === bytes && t.pipeline === 'framework')!
    const ratio = fw.eventsPerSecond / raw.eventsPerSecond
    rows.push([
      `events/s end to end, ${bytes} B`,
      fmt(fw.eventsPerSecond),
      fmt(raw.eventsPerSecond),
      `${fmt(ratio, 2)}×`,
      '≥ 3× raw',
    ])
    rows.push([
      `MongoDB round trips/event, ${bytes} B`,
      fmt(fw.roundTripsPerEvent, 3),
      fmt(raw.roundTripsPerEvent, 3),
      `${fmt(fw.roundTripsPerEvent / raw.roundTripsPerEvent, 2)}×`,
      '≤ 1',
    ])
    rows.push([
      `Node CPU µs/event, ${bytes} B`,
      fmt(fw.cpuMicrosPerEvent),
      fmt(raw.cpuMicrosPerEvent),
      `${fmt(fw.cpuMicrosPerEvent / raw.cpuMicrosPerEvent, 2)}×`,
      '≤ 150 µs',
    ])
    targets.push({
      figure: `throughput ratio ${bytes} B`,
      value: ratio,
      target: '≥ 3',
      met: ratio >= 3,
    })
    targets.push({
      figure: `round trips/event ${bytes} B`,
      value: fw.roundTripsPerEvent,
      target: '≤ 1',
      met: fw.roundTripsPerEvent <= 1,
    })
    targets.push({
      figure: `CPU µs/event ${bytes} B`,
      value: fw.cpuMicrosPerEvent,
      target: '≤ 150',
      met: fw.cpuMicrosPerEvent <= 150,
    })
  }
  for (const rate of rates) {
    const raw = input.latency.find((l) => l.ratePerSecond === rate && l.pipeline === 'raw')!
    const fw = input.latency.find((l) => l.ratePerSecond === rate && l.pipeline === 'framework')!
    const ms = (l: LatencyResult) => `${fmt(l.p50, 1)} / ${fmt(l.p95, 1)} / ${fmt(l.p99, 1)}`
    rows.push([
      `latency p50/p95/p99 ms at ${rate}/s`,
      ms(fw),
      ms(raw),
      `${fmt(fw.p99 / raw.p99, 2)}× p99`,
      rate === 500 ? 'p99 < 50 ms' : '',
    ])
    if (rate === 500)
      targets.push({ figure: 'p99 ms at 500/s', value: fw.p99, target: '< 50', met: fw.p99 < 50 })
  }
  const rss = input.backlogReport.maxRssMB
  rows.push([
    `peak RSS MB draining ${fmt(input.backlogReport.handled)} events`,
    fmt(rss),
    '',
    `${fmt(input.backlogReport.handled / input.backlogSeconds)} events/s`,
    '< 250 MB',
  ])
  targets.push({ figure: 'peak RSS MB, backlog', value: rss, target: '< 250', met: rss < 250 })
  const speedup = input.scaling[1]! / input.scaling[2]!
  rows.push([
    '2 instances vs 1, CPU-bound handler',
    `${fmt(speedup, 2)}×`,
    '',
    `${fmt(input.scaling[1]!, 1)} s → ${fmt(input.scaling[2]!, 1)} s`,
    '≥ 1.7×',
  ])
  targets.push({
    figure: 'speed-up with 2 instances',
    value: speedup,
    target: '≥ 1.7',
    met: speedup >= 1.7,
  })

  printTable(['figure', 'framework', 'raw', 'ratio', 'target'], rows)
  for (const t of targets)
    console.log(
      `${t.met ? 'met   ' : 'missed'}  ${t.figure}: ${fmt(t.value, 2)} (target ${t.target})`,
    )
  return {
    throughput: input.throughput,
    latency: input.latency,
    backlog: { ...input.backlogReport, seconds: input.backlogSeconds },
    scaling: input.scaling,
    targets,
  }
}
