import type { Db } from 'mongodb'

/** A MongoDB server's answer to a probe: `ok`, or why not (`not checked`: the service is stopped). */
export type MongoCheck = { state: 'ok' } | { state: 'unreachable' | 'not checked'; reason: string }

export interface MongoPingOptions {
  /** How long a probe waits for the answer. Default 1 s. */
  timeoutMs?: number
  /** How long an answer is reused. Default 1 s: a storm of probes sends one ping a second. */
  cacheMs?: number
}

/** Defaults of `MongoPingOptions`. */
export const mongoPingDefaults = { timeoutMs: 1_000, cacheMs: 1_000 } as const

/**
 * A `ping` command with a short timeout and a cached answer. At most one ping is ever in
 * flight: a probe that comes while one hangs waits for it (up to the timeout), never adds another.
 */
export function cachedMongoPing(db: Db, options: MongoPingOptions = {}): () => Promise<MongoCheck> {
  const timeoutMs = options.timeoutMs ?? mongoPingDefaults.timeoutMs
  const cacheMs = options.cacheMs ?? mongoPingDefaults.cacheMs
  let cached: { check: MongoCheck; at: number } | undefined
  let inFlight: Promise<MongoCheck> | undefined

  const ping = (): Promise<MongoCheck> =>
    (inFlight ??= db
      .command({ ping: 1 })
      .then(
        (): MongoCheck => ({ state: 'ok' }),
        (error: unknown): MongoCheck => ({
          state: 'unreachable',
          reason: error instanceof Error ? error.message : String(error),
        }),
      )
      .then((check) => {
        cached = { check, at: Date.now() }
        inFlight = undefined
        return check
      }))

  return async () => {
    if (cached && Date.now() - cached.at < cacheMs) return cached.check
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<MongoCheck>((resolve) => {
      timer = setTimeout(
        () => resolve({ state: 'unreachable', reason: `no answer to ping within ${timeoutMs} ms` }),
        timeoutMs,
      )
    })
    try {
      return await Promise.race([ping(), timedOut])
    } finally {
      clearTimeout(timer)
    }
  }
}
