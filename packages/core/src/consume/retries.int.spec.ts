import { setTimeout as sleep } from 'node:timers/promises'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import type { Service, ServiceOptions } from '../service.ts'
import { eventStore } from '../store/event-store.ts'
import { deliveryKey } from '../store/keys.ts'
import {
  captureLogs,
  createTestService,
  databaseName,
  dlqEntryIdOf,
} from '../testing/test-service.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'retries')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
/** The event store of a test's scope (each scope has its own database). */
const storeOf = (scope: string) => eventStore(mongo.db(databaseName(ns, scope)))
const nc = await connect({ servers: servers.natsUrl })
const jsm = await jetstreamManager(nc)
const services: Service[] = []
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()))
  await nc.close()
  await mongo.close()
  await ns.cleanup()
})

const PostPublished = defineEvent({
  subject: 'Post.published',
  version: 1,
  schema: z.object({ postId: z.string() }),
})
const PostIndexed = defineEvent({
  subject: 'Post.indexed',
  version: 1,
  schema: z.object({ postId: z.string(), part: z.number() }),
})

/** Each test's service gets a stream of its own (scope = its name). */
async function service(name: string, overrides: Partial<ServiceOptions> = {}) {
  const created = await createTestService(ns, servers, name, { scope: name, ...overrides })
  services.push(created)
  return created
}

async function publishPost(svc: Service, postId: string) {
  const op = await svc.startOperation({ name: 'postPublish', input: { postId } })
  return op.publish(PostPublished, { postId })
}

/** Nothing left for the durable: no pending message, none waiting for an ack. */
async function expectSettled(service: string, handler: string) {
  await eventually(async () => {
    const info = await jsm.consumers.info(
      `${ns.subjectPrefix}_${service}_EVENTS`,
      `${service}_${handler}`,
    )
    expect({ pending: info.num_pending, ackPending: info.num_ack_pending }).toEqual({
      pending: 0,
      ackPending: 0,
    })
  })
}

describe('retries', () => {
  it('a handler that fails 3 times, then succeeds: 3 failures recorded, no DLQ entry, effect once', async () => {
    const svc = await service('flaky')
    const store = storeOf('flaky')
    const effects: string[] = []
    const attempts: number[] = []
    svc.on(PostPublished, { handler: 'index' }, async (event, ctx) => {
      attempts.push(ctx.attempt)
      if (ctx.attempt <= 3) throw new Error(`search is down (attempt ${ctx.attempt})`)
      effects.push(event.data.postId)
    })
    await svc.start()
    const eventId = await publishPost(svc, 'p1')

    await eventually(() => expect(effects).toEqual(['p1']))
    expect(attempts).toEqual([1, 2, 3, 4])
    const failure = await store.failures.findOne({ _id: deliveryKey(eventId, 'flaky.index') })
    expect(failure).toMatchObject({
      failures: 3,
      consumerGroup: 'flaky.index',
      subject: 'Post.published',
    })
    expect(failure?.attempts.map((a) => [a.attempt, a.message])).toEqual([
      [1, 'search is down (attempt 1)'],
      [2, 'search is down (attempt 2)'],
      [3, 'search is down (attempt 3)'],
    ])
    expect(failure?.attempts[0]?.stack).toContain('retries.int.spec.ts')
    expect(await store.dlq.countDocuments({ eventId })).toBe(0)
    await expectSettled('flaky', 'index')
  })

  it('a handler that always fails: exactly 5 deliveries, one DLQ entry with 5 errors and the payload, no 6th', async () => {
    const logs = captureLogs()
    const svc = await service('broken', { logger: logs.logger })
    let calls = 0
    svc.on(PostPublished, { handler: 'index' }, async () => {
      calls += 1
      throw new Error('index mapping is wrong')
    })
    await svc.start()
    const eventId = await publishPost(svc, 'p2')

    const entry = (await svc.dlq.get(await dlqEntryIdOf(svc, eventId, 'broken.index')))!
    await expectSettled('broken', 'index')
    expect(calls).toBe(5)
    expect(entry).toMatchObject({
      eventId,
      consumerGroup: 'broken.index',
      service: 'broken',
      handler: 'index',
      subject: 'Post.published',
      version: 1,
      status: 'open',
      payload: JSON.stringify({ postId: 'p2' }),
      reason: 'failed 5 times; last error: index mapping is wrong',
    })
    expect(entry.headers).toContainEqual({ name: 'Event-Id', value: eventId })
    expect(entry.attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5])
    expect(entry.operationId).toEqual(expect.any(String))

    const failedLines = logs.messages().filter((m) => m.startsWith('Failed '))
    expect(failedLines).toEqual(
      [1, 2, 3, 4, 5].map(
        (n) =>
          `Failed ${n} times, consumer group: broken.index, event: ${eventId}, error: index mapping is wrong`,
      ),
    )
    expect(logs.lines.find((l) => String(l.msg).startsWith('Failed 1'))).toMatchObject({
      eventId,
      consumerGroup: 'broken.index',
      operationId: entry.operationId,
    })
    expect(logs.messages().at(-1)).toContain(
      `Moved to the dead letter queue, consumer group: broken.index, event: ${eventId}`,
    )
  })

  it('a handler that hangs past the ack wait is redelivered, and the hang counts as a failure', async () => {
    const svc = await service('hanging') // ack wait 1 s; the handler's timeout defaults to it
    const store = storeOf('hanging')
    const attempts: number[] = []
    svc.on(PostPublished, { handler: 'index' }, async (_event, ctx) => {
      attempts.push(ctx.attempt)
      if (ctx.attempt === 1) await new Promise(() => {}) // never settles
    })
    await svc.start()
    const eventId = await publishPost(svc, 'p3')

    await eventually(() => expect(attempts).toEqual([1, 2]), { timeoutMs: 15_000 })
    const failure = await store.failures.findOne({ _id: deliveryKey(eventId, 'hanging.index') })
    expect(failure?.attempts.map((a) => a.message)).toEqual([
      'the handler ran longer than its timeout of 1000 ms',
    ])
    await expectSettled('hanging', 'index')
  })

  it('a slow but alive handler is kept alive past the ack wait and delivered once', async () => {
    const svc = await service('slow')
    const store = storeOf('slow')
    const attempts: number[] = []
    svc.on(PostPublished, { handler: 'index', timeoutMs: 10_000 }, async (_event, ctx) => {
      attempts.push(ctx.attempt)
      await sleep(2_500) // 2.5 × the ack wait
    })
    await svc.start()
    const eventId = await publishPost(svc, 'p4')

    await eventually(
      async () =>
        expect(
          await store.processed.countDocuments({ _id: deliveryKey(eventId, 'slow.index') }),
        ).toBe(1),
      {
        timeoutMs: 15_000,
      },
    )
    await expectSettled('slow', 'index')
    expect(attempts).toEqual([1])
    expect(await store.failures.countDocuments({ eventId })).toBe(0)
  })

  it('a handler that publishes children and is retried re-emits the same ids: no duplicate children', async () => {
    const svc = await service('indexer')
    const store = storeOf('indexer')
    const children: string[] = []
    svc.on(PostPublished, { handler: 'split' }, async (event, ctx) => {
      await ctx.publish(PostIndexed, { postId: event.data.postId, part: 1 })
      await ctx.publish(PostIndexed, { postId: event.data.postId, part: 2 })
      if (ctx.attempt < 3) throw new Error('failed after publishing')
    })
    svc.on(PostIndexed, { handler: 'countPart' }, async (event) => {
      children.push(`${event.data.postId}:${event.data.part}`)
    })
    await svc.start()
    const parentId = await publishPost(svc, 'p5')

    await eventually(async () =>
      expect(
        await store.processed.countDocuments({ _id: deliveryKey(parentId, 'indexer.split') }),
      ).toBe(1),
    )
    await expectSettled('indexer', 'countPart')
    expect(children.sort()).toEqual(['p5:1', 'p5:2'])
    const recorded = await eventually(async () => {
      const found = await store.events.find({ parentId }).toArray()
      expect(found).toHaveLength(2)
      return found
    })
    expect(recorded.map((e) => e.data)).toEqual(
      expect.arrayContaining([
        { postId: 'p5', part: 1 },
        { postId: 'p5', part: 2 },
      ]),
    )
    expect(recorded).toHaveLength(2)
    expect(recorded.every((e) => e.publishedBy.consumerGroup === 'indexer.split')).toBe(true)
  })
})
