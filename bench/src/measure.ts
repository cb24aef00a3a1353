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

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return sorted[Math.max(0, index)]!
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
