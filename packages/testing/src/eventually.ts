import { setTimeout as sleep } from 'node:timers/promises'

export interface EventuallyOptions {
  /** Give up after this long. Default 10 s. */
  timeoutMs?: number
  /** Wait this long between tries. Default 50 ms. */
  intervalMs?: number
}

/**
 * Polls `check` until it returns without throwing, and returns what it returned; after the
 * deadline, throws the last error. Tests wait for outcomes this way, never with fixed sleeps.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 50 }: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() >= deadline) {
        if (error instanceof Error) error.message = `after ${timeoutMs} ms: ${error.message}`
        throw error
      }
    }
    await sleep(intervalMs)
  }
}
