import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { MongoClient } from 'mongodb'
import type { ServiceTracing } from '@event-driven/core'
import type { BenchContext } from './context.ts'
import { startFrameworkPipeline } from './framework.ts'
import {
  allocationCounter,
  cpuSince,
  percentile,
  roundTripCounter,
  until,
  withWindow,
} from './measure.ts'
import { startRawPipeline } from './raw.ts'

export type Pipeline = 'framework' | 'raw'

export interface ThroughputResult {
  pipeline: Pipeline
  bytes: number
  events: number
  eventsPerSecond: number
  roundTripsPerEvent: number
  cpuMicrosPerEvent: number
  /** JavaScript heap bytes the process allocated per event (publish, delivery and the rest). */
  allocatedBytesPerEvent: number
  /**
   * From each `publish()` call until it resolved (for the framework: JetStream acknowledged the
   * event), in ms, with `window` in flight: queueing included, so it follows events/s.
   */
  publishP50Ms: number
  publishP99Ms: number
  /**
   * With `serialPublishes`: that many more publishes after the timed run, one at a time (nothing
   * else in flight but their deliveries), each from the call until it resolved, in ms.
   */
  serialPublishP50Ms?: number
  serialPublishP99Ms?: number
}

/**
 * End to end: `events` publishes with `window` in flight, each recorded, published, handled,
 * ledger written and acked; timed until the durable has nothing pending or unacked. `tracing` and
 * `replicas` (of the stream, on a cluster) are given to the framework's service (the raw pipeline
 * has neither). `ctx.natsUrl` may name several servers, comma-separated.
 */
export async function measureThroughput(
  ctx: BenchContext,
  pipeline: Pipeline,
  {
    events,
    bytes,
    window,
    tracing,
    replicas,
    serialPublishes = 0,
  }: {
    events: number
    bytes: number
    window: number
    tracing?: ServiceTracing
    replicas?: number
    serialPublishes?: number
  },
): Promise<ThroughputResult> {
  const names = ctx.scope(`${pipeline}_${bytes}`)
  const mongo = await new MongoClient(ctx.mongodbUrl, { monitorCommands: true }).connect()
  const nc = await connect({ servers: ctx.natsUrl.split(',') })
  const options = { natsUrl: ctx.natsUrl, mongo, ...names, concurrency: window }
  const run =
    pipeline === 'framework'
      ? await startFrameworkPipeline({ ...options, tracing, replicas })
      : await startRawPipeline(options)
  const durable = pipeline === 'framework' ? 'bench_measure' : 'raw'
  try {
    const jsm = await jetstreamManager(nc)
    const trips = roundTripCounter(mongo)
    const allocations = allocationCounter()
    const cpuStart = process.cpuUsage()
    const started = performance.now()
    const publishMs: number[] = []
    await withWindow(events, window, async (n) => {
      const called = performance.now()
      await run.publish(n, bytes)
      publishMs.push(performance.now() - called)
    })
    await until(() => run.handled() >= events, 300_000, `${pipeline} to handle ${events} events`)
    await until(
      async () => {
        const info = await jsm.consumers.info(names.stream, durable)
        return info.num_pending === 0 && info.num_ack_pending === 0
      },
      60_000,
      'the last acks',
    )
    const seconds = (performance.now() - started) / 1000
    const cpuMicros = cpuSince(cpuStart)
    const allocated = allocations.stop()
    publishMs.sort((a, b) => a - b)
    const result = {
      pipeline,
      bytes,
      events,
      eventsPerSecond: events / seconds,
      roundTripsPerEvent: trips.count / events,
      cpuMicrosPerEvent: cpuMicros / events,
      allocatedBytesPerEvent: allocated / events,
      publishP50Ms: percentile(publishMs, 50),
      publishP99Ms: percentile(publishMs, 99),
    }
    trips.stop()
    if (serialPublishes === 0) return result
    const serialMs: number[] = []
    for (let n = events; n < events + serialPublishes; n++) {
      const called = performance.now()
      await run.publish(n, bytes)
      serialMs.push(performance.now() - called)
    }
    serialMs.sort((a, b) => a - b)
    return {
      ...result,
      serialPublishP50Ms: percentile(serialMs, 50),
      serialPublishP99Ms: percentile(serialMs, 99),
    }
  } finally {
    await run.stop()
    await nc.close()
    await mongo.close()
  }
}
