import { ConfigurationError } from '@event-driven/core'
import type { ServiceRuntime } from '@event-driven/service-kit'
import { BlogDigestCompiled } from '../shared/events.ts'

/** How often the digest runs by default: once a minute. */
export const defaultDigestEveryMs = 60_000

/**
 * `BLOG_DIGEST_EVERY_MS`: the digest's interval; 0 turns it off (the tests do, so that no tick
 * lands in a count of operations). Default one minute.
 */
export function digestEveryMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.BLOG_DIGEST_EVERY_MS
  if (text === undefined || text === '') return defaultDigestEveryMs
  const value = Number(text)
  if (!Number.isInteger(value) || (value !== 0 && value < 100) || value > 2 ** 31 - 1)
    throw new ConfigurationError(
      `BLOG_DIGEST_EVERY_MS must be 0 (off) or a whole number of ms from 100, got ${JSON.stringify(text)}`,
    )
  return value
}

/**
 * The blogs digest: once per tick across every blogs instance, the operation `blogDigest`
 * (actor `timer:blogDigest`) counts the blogs created during the tick before the previous one
 * and, when there are any, publishes Blog.digestCompiled. One tick late on purpose: a blog's
 * `createdAt` is taken before it is appended, and the count reads the read model, a delivery
 * behind, so when a tick ends its last blogs may still be on their way (one slower than the
 * interval is missed). A tick no instance was running
 * for is not counted later.
 */
export function startDigest(
  runtime: ServiceRuntime,
  blogsCreated: (from: Date, to: Date) => Promise<number>,
  intervalMs: number,
): void {
  if (intervalMs === 0) return
  runtime.every({ name: 'blogDigest', intervalMs }, async (op, tick) => {
    const to = tick.previousAt
    const from = new Date(to.getTime() - intervalMs)
    const created = await blogsCreated(from, to)
    if (created > 0)
      await op.publish(BlogDigestCompiled, {
        from: from.toISOString(),
        to: to.toISOString(),
        blogsCreated: created,
      })
  })
}
