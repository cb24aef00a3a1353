import type { Db } from 'mongodb'
import { describe, expect, it } from 'vitest'
import { cachedMongoPing } from './mongo-ping.ts'
import { judgeHealth, type HealthInputs } from './service-health.ts'

/** A database whose `ping` answers (or hangs, or fails) as a test says, counting the pings. */
function fakeDb(answer: () => Promise<unknown>): Db & { pings: number } {
  const db = {
    pings: 0,
    command(): Promise<unknown> {
      db.pings++
      return answer()
    },
  }
  return db as unknown as Db & { pings: number }
}

describe('MongoDB ping of a probe', () => {
  it('a storm of probes sends one ping while the answer is fresh', async () => {
    const db = fakeDb(async () => ({ ok: 1 }))
    const ping = cachedMongoPing(db, { cacheMs: 60_000 })
    const answers = await Promise.all(Array.from({ length: 50 }, () => ping()))
    expect(answers.every((a) => a.state === 'ok')).toBe(true)
    expect(await ping()).toEqual({ state: 'ok' })
    expect(db.pings).toBe(1)
  })

  it('asks again once the answer is older than cacheMs', async () => {
    const db = fakeDb(async () => ({ ok: 1 }))
    const ping = cachedMongoPing(db, { cacheMs: 0 })
    await ping()
    await ping()
    expect(db.pings).toBe(2)
  })

  it('a failed ping is unreachable, with the driver’s reason', async () => {
    const ping = cachedMongoPing(fakeDb(() => Promise.reject(new Error('connection refused'))))
    expect(await ping()).toEqual({ state: 'unreachable', reason: 'connection refused' })
  })

  it('a hanging ping is unreachable after timeoutMs, and probes meanwhile add no ping', async () => {
    const db = fakeDb(() => new Promise(() => {}))
    const ping = cachedMongoPing(db, { timeoutMs: 50 })
    expect(await ping()).toEqual({
      state: 'unreachable',
      reason: 'no answer to ping within 50 ms',
    })
    await ping()
    expect(db.pings).toBe(1)
  })
})

describe('judging a service’s health', () => {
  const good: HealthInputs = {
    name: 'blogs',
    lifecycle: 'running',
    nats: 'connected',
    mongodb: { state: 'ok' },
    consumerGroups: { 'blogs.createAuthor': 'pulling' },
  }

  it('is ready only when every check is good', () => {
    expect(judgeHealth(good)).toEqual({
      name: 'blogs',
      alive: true,
      ready: true,
      checks: {
        lifecycle: 'running',
        nats: 'connected',
        mongodb: 'ok',
        consumerGroups: { 'blogs.createAuthor': 'pulling' },
        draining: false,
      },
      reasons: [],
    })
  })

  it.each<[string, Partial<HealthInputs>, RegExp]>([
    ['NATS down', { nats: 'disconnected' }, /^NATS is disconnected$/],
    [
      'MongoDB down',
      { mongodb: { state: 'unreachable', reason: 'timeout' } },
      /MongoDB is unreachable: timeout/,
    ],
    [
      'a group not pulling',
      { consumerGroups: { 'blogs.createAuthor': 'failed' } },
      /blogs\.createAuthor is failed/,
    ],
    ['draining', { lifecycle: 'draining' }, /the service is draining/],
    ['starting', { lifecycle: 'starting' }, /the service is starting/],
  ])('is not ready with %s, and says why', (_, change, reason) => {
    const health = judgeHealth({ ...good, ...change })
    expect(health.ready).toBe(false)
    expect(health.reasons).toHaveLength(1)
    expect(health.reasons[0]).toMatch(reason)
    expect(health.checks.draining).toBe(change.lifecycle === 'draining')
  })
})
