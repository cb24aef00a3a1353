import { GCProfiler, getHeapStatistics } from 'node:v8'
import type { CommandStartedEvent, MongoClient } from 'mongodb'

/** Counts MongoDB commands (round trips) sent through a client while `counting` is on. */
export function roundTripCounter(client: MongoClient) {
  let count = 0
  const listener = (_event: CommandStartedEvent) => {
    count += 1
  }
  client.on('commandStarted', listener)
  return {
    reset: () => (count = 0),
    get count() {
      return count
    },
    stop: () => client.off('commandStarted', listener),
  }
}

/** CPU time (user + system) this process spent since `start`, in microseconds. */
export function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start)
  return used.user + used.system
}

/**
 * Bytes this process allocated on the JavaScript heap from now until `stop()`: what the heap grew
 * by, plus what each garbage collection in between freed (V8 reports used size before and after
 * each). Buffers' memory outside the heap is not counted.
 */
export function allocationCounter(): { stop(): number } {
  const profiler = new GCProfiler()
  const start = getHeapStatistics().used_heap_size
  profiler.start()
  return {
    stop() {
      const end = getHeapStatistics().used_heap_size
      const collections = profiler.stop()?.statistics ?? []
      let freed = 0
      for (const gc of collections)
        freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize
      return end - start + freed
    },
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return sorted[Math.max(0, index)]!
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  )
}

/** Runs `task` for each of `count` items with at most `window` in flight. */
export async function withWindow(
  count: number,
  window: number,
  task: (i: number) => Promise<unknown>,
) {
  let next = 0
  const worker = async () => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker))
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function until(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
