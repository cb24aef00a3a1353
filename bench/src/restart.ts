import { eventStore } from '@event-driven/core/admin'
import { MongoClient } from 'mongodb'
import { blogEnv, startBlog } from './blog-process.ts'
import type { BenchContext } from './context.ts'
import { writeHistory } from './history.ts'

export interface RestartResult {
  /** Seconds from spawning the blog service to its `ready` line, on an empty event store. */
  firstStart: number
  /** The same once the event store holds `historyEvents` events (and their ledger). */
  restart: number
  historyEvents: number
}

/**
 * Restart-to-ready: the blog service (all of it, one process) started on nothing, stopped, given
 * a grown event store, and started again. What a start does to the store (indexes, the signing
 * key, streams) must not cost more because history grew.
 */
export async function measureRestart(
  ctx: BenchContext,
  historyEvents: number,
  log: (line: string) => void,
): Promise<RestartResult> {
  const env = await blogEnv(ctx, 'restart')
  const startToReady = async () => {
    const started = performance.now()
    const blog = await startBlog(env, { timeoutMs: 120_000, intervalMs: 20 })
    const seconds = (performance.now() - started) / 1000
    await blog.stop()
    return seconds
  }
  log('restart: first start on an empty event store')
  const firstStart = await startToReady()
  log(`restart: ${historyEvents} events of history written, then started again`)
  const mongo = await new MongoClient(ctx.mongodbUrl).connect()
  try {
    await writeHistory(eventStore(mongo.db(`${env.DATABASE_PREFIX}event_driven`)), {
      events: historyEvents,
      endsAt: new Date(),
      spanMs: 86_400_000,
    })
  } finally {
    await mongo.close()
  }
  return { firstStart, restart: await startToReady(), historyEvents }
}

export function printRestart(result: RestartResult): void {
  const ratio = result.restart / result.firstStart
  console.log(
    `\nrestart to ready: ${result.firstStart.toFixed(2)} s on an empty store, ${result.restart.toFixed(2)} s with ${result.historyEvents.toLocaleString('en-US')} events (${ratio.toFixed(2)}×)`,
  )
  console.log(
    `${ratio <= 1.5 ? 'met   ' : 'missed'}  restart vs first start: ${ratio.toFixed(2)}× (target: as fast, ≤ 1.5× with the noise of one start)`,
  )
}
