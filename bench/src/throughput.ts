import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { MongoClient } from 'mongodb'
import type { ServiceTracing } from '@event-driven/core'
import type { BenchContext } from './context.ts'
import { startFrameworkPipeline } from './framework.ts'
import { allocationCounter, cpuSince, roundTripCounter, until, withWindow } from './measure.ts'
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
}

/**
 * End to end: `events` publishes with `window` in flight, each recorded, published, handled,
 * ledger written and acked; timed until the durable has nothing pending or unacked. `tracing` is
 * given to the framework's service (the raw pipeline has none).
 */
export async function measureThroughput(
  ctx: BenchContext,
  pipeline: Pipeline,
  {
    events,
    bytes,
    window,
    tracing,
  }: { events: number; bytes: number; window: number; tracing?: ServiceTracing },
): Promise<ThroughputResult> {
  const names = ctx.scope(`${pipeline}_${bytes}`)
  const mongo = await new MongoClient(ctx.mongodbUrl, { monitorCommands: true }).connect()
  const nc = await connect({ servers: ctx.natsUrl })
  const options = { natsUrl: ctx.natsUrl, mongo, ...names, concurrency: window }
  const run =
    pipeline === 'framework'
      ? await startFrameworkPipeline({ ...options, ...(tracing ? { tracing } : {}) })
      : await startRawPipeline(options)
  const durable = pipeline === 'framework' ? 'bench_measure' : 'raw'
  try {
    const jsm = await jetstreamManager(nc)
    const trips = roundTripCounter(mongo)
    const allocations = allocationCounter()
    const cpuStart = process.cpuUsage()
    const started = performance.now()
    await withWindow(events, window, (n) => run.publish(n, bytes))
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
    const result = {
      pipeline,
      bytes,
      events,
      eventsPerSecond: events / seconds,
      roundTripsPerEvent: trips.count / events,
      cpuMicrosPerEvent: cpuMicros / events,
      allocatedBytesPerEvent: allocated / events,
    }
    trips.stop()
    return result
  } finally {
    await run.stop()
    await nc.close()
    await mongo.close()
  }
}
