import { MongoClient } from 'mongodb'
import type { BenchContext } from './context.ts'
import { startFrameworkPipeline } from './framework.ts'
import { percentile, until } from './measure.ts'
import { startRawPipeline } from './raw.ts'
import type { Pipeline } from './throughput.ts'

export interface LatencyResult {
  pipeline: Pipeline
  ratePerSecond: number
  events: number
  p50: number
  p95: number
  p99: number
}

/** Publishes at a fixed offered rate (not as fast as possible) and measures publish() → handler start. */
export async function measureLatency(
  ctx: BenchContext,
  pipeline: Pipeline,
  { ratePerSecond, seconds, bytes }: { ratePerSecond: number; seconds: number; bytes: number },
): Promise<LatencyResult> {
  const names = ctx.scope(`${pipeline}_rate${ratePerSecond}`)
  const mongo = await new MongoClient(ctx.mongodbUrl).connect()
  const start = pipeline === 'framework' ? startFrameworkPipeline : startRawPipeline
  const run = await start({ natsUrl: ctx.natsUrl, mongo, ...names, concurrency: 64 })
  try {
    const events = Math.round(ratePerSecond * seconds)
    const publishes: Promise<void>[] = []
    const started = performance.now()
    for (let n = 0; n < events; n++) {
      const due = started + (n * 1000) / ratePerSecond
      const wait = due - performance.now()
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
      publishes.push(run.publish(n, bytes))
    }
    await Promise.all(publishes)
    await until(() => run.handled() >= events, 120_000, `${pipeline} to handle ${events} events`)
    const sorted = [...run.latencies].sort((a, b) => a - b)
    return {
      pipeline,
      ratePerSecond,
      events,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
    }
  } finally {
    await run.stop()
    await mongo.close()
  }
}
