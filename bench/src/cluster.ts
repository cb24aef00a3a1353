import { startNatsCluster } from '@event-driven/testing'
import { deleteStreams, type BenchContext } from './context.ts'
import { compared, interleaved, type Compared, type Repeated } from './repetitions.ts'
import { fmt, printTable } from './table.ts'
import { measureThroughput, type ThroughputResult } from './throughput.ts'

/**
 * `single`: the shared nats-server (`NATS_URL`), the stream on one node. `cluster R1`: a
 * three-node JetStream cluster of the bench's own, the stream on one of them (what a cluster costs
 * without replication: placement, routes, the meta group). `cluster R3`: the same cluster, the
 * stream (and the DLQ's parked stream) replicated on all three (RAFT: a publish is acknowledged
 * once a majority stored it).
 */
export type ClusterMode = 'single' | 'cluster R1' | 'cluster R3'
const modes: ClusterMode[] = ['single', 'cluster R1', 'cluster R3']

export type ClusterRun = Repeated<
  ClusterMode,
  ThroughputResult & {
    /** Nodes that held the events' stream, from its info before it was deleted. */
    streamNodes: number
  }
>

export interface ClusterFigures {
  mode: ClusterMode
  replicas: number
  /** Medians over the repetitions, ranges, and ratios to `single` (of medians, and paired). */
  eventsPerSecond: Compared
  cpuMicrosPerEvent: Compared
  /** Publishes with `window` in flight (queueing included), then one at a time. */
  publishP50Ms: Compared
  publishP99Ms: Compared
  serialPublishP50Ms: Compared
  serialPublishP99Ms: Compared
}

export interface ClusterResult {
  bytes: number
  events: number
  window: number
  repetitions: number
  serialPublishes: number
  /** From spawning the three nodes until JetStream answered with a meta leader. */
  clusterStartSeconds: number
  figures: ClusterFigures[]
  runs: ClusterRun[]
}

/**
 * The framework pipeline on the shared nats-server against a three-node cluster started here
 * (`startNatsCluster`, needs `NATS_SERVER_BIN`), with the stream on one node and on three, in
 * interleaved repetitions. Each run's streams are deleted after it, so that every run starts on a
 * server holding none of the earlier runs' streams (on the cluster: no idle RAFT groups).
 */
export async function measureCluster(
  ctx: BenchContext,
  env: NodeJS.ProcessEnv,
  plan: {
    events: number
    warmupEvents: number
    repetitions: number
    bytes: number
    window: number
    serialPublishes: number
  },
  log: (line: string) => void,
): Promise<ClusterResult> {
  if (ctx.natsUrl.includes(','))
    log(`cluster: NATS_URL names several servers, so "single" is a cluster too (${ctx.natsUrl})`)
  const starting = performance.now()
  const cluster = await startNatsCluster(env)
  const clusterStartSeconds = (performance.now() - starting) / 1000
  log(`cluster: three nodes ready in ${fmt(clusterStartSeconds, 1)} s (${cluster.url})`)
  const where: Record<ClusterMode, { ctx: BenchContext; replicas: number }> = {
    single: { ctx, replicas: 1 },
    'cluster R1': { ctx: { ...ctx, natsUrl: cluster.url }, replicas: 1 },
    'cluster R3': { ctx: { ...ctx, natsUrl: cluster.url }, replicas: 3 },
  }
  try {
    const runs = await interleaved(modes, plan.repetitions, async (mode, repetition) => {
      const warmup = repetition === 0
      const events = warmup ? plan.warmupEvents : plan.events
      log(
        `cluster, ${mode}: ${events} events of ${plan.bytes} B${warmup ? ' (warm-up)' : `, repetition ${repetition} of ${plan.repetitions}`}`,
      )
      globalThis.gc?.()
      const { ctx: on, replicas } = where[mode]
      try {
        const result = await measureThroughput(on, 'framework', {
          events,
          bytes: plan.bytes,
          window: plan.window,
          replicas,
          serialPublishes: plan.serialPublishes,
        })
        const nodes = await deleteStreams(on)
        const stream = Object.keys(nodes).find((name) => name.endsWith('_EVENTS'))
        return { ...result, streamNodes: stream ? nodes[stream]! : 0 }
      } catch (error) {
        await deleteStreams(on).catch(() => {})
        throw error
      }
    })
    return {
      bytes: plan.bytes,
      events: plan.events,
      window: plan.window,
      repetitions: plan.repetitions,
      serialPublishes: plan.serialPublishes,
      clusterStartSeconds,
      figures: modes.map((mode) => ({
        mode,
        replicas: where[mode].replicas,
        eventsPerSecond: compared(runs, mode, 'single', (r) => r.eventsPerSecond),
        cpuMicrosPerEvent: compared(runs, mode, 'single', (r) => r.cpuMicrosPerEvent),
        publishP50Ms: compared(runs, mode, 'single', (r) => r.publishP50Ms),
        publishP99Ms: compared(runs, mode, 'single', (r) => r.publishP99Ms),
        serialPublishP50Ms: compared(runs, mode, 'single', (r) => r.serialPublishP50Ms!),
        serialPublishP99Ms: compared(runs, mode, 'single', (r) => r.serialPublishP99Ms!),
      })),
      runs,
    }
  } finally {
    await cluster.dispose()
  }
}

export function printCluster(result: ClusterResult): void {
  const cell = (c: Compared) => `${fmt(c.median)} (${fmt(c.range[0])}–${fmt(c.range[1])})`
  const ratio = (c: Compared) => `${fmt(c.ratio, 2)}× (${fmt(c.paired.median, 2)}×)`
  const nodes = (mode: ClusterMode) =>
    [...new Set(result.runs.filter((r) => r.mode === mode).map((r) => r.streamNodes))].join(', ')
  const ms = (p50: Compared, p99: Compared) => `${fmt(p50.median, 1)} / ${fmt(p99.median, 1)}`
  const ratios = (p50: Compared, p99: Compared) => `${fmt(p50.ratio, 2)}× / ${fmt(p99.ratio, 2)}×`
  const header = [
    'NATS',
    'stream on',
    'events/s',
    'ratio (paired)',
    'Node CPU µs/event',
    'ratio (paired)',
    `publish p50 / p99 ms, ${result.window} in flight`,
    'ratio',
    'publish p50 / p99 ms, one at a time',
    'ratio',
  ]
  const rows = result.figures.map((f) => [
    f.mode,
    `${nodes(f.mode)} node(s)`,
    cell(f.eventsPerSecond),
    ratio(f.eventsPerSecond),
    cell(f.cpuMicrosPerEvent),
    ratio(f.cpuMicrosPerEvent),
    ms(f.publishP50Ms, f.publishP99Ms),
    ratios(f.publishP50Ms, f.publishP99Ms),
    ms(f.serialPublishP50Ms, f.serialPublishP99Ms),
    ratios(f.serialPublishP50Ms, f.serialPublishP99Ms),
  ])
  printTable(
    header,
    rows,
    `Cluster, framework pipeline at ${result.bytes} B, ${fmt(result.events)} events × ${result.repetitions} interleaved repetitions, then ${result.serialPublishes} publishes one at a time (median, lowest–highest; ratio of medians to single, and the median of each repetition's ratio):`,
  )
}
