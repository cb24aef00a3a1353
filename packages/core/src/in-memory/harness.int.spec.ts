import { jetstream } from '@nats-io/jetstream'
import { connect, headers } from '@nats-io/transport-node'
import {
  createTestNamespace,
  eventually,
  getTestServers,
  testHandler,
  type HandlerOutcome,
} from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { EventHandler } from '../consume/handler.ts'
import { defineEvent } from '../event-definition.ts'
import { signedPublisher } from '../publish/signature.ts'
import type { Service } from '../service.ts'
import { deliveryKey } from '../store/keys.ts'
import { eventStore } from '../store/event-store.ts'
import { createTestService, dlqEntryIdOf } from '../testing/test-service.ts'

// testHandler runs the production delivery steps in memory: a handler gets the same outcome
// there as in a service on real servers.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'harness')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const store = eventStore(mongo.db(ns.database))
const nc = await connect({ servers: servers.natsUrl })

const PostPublished = defineEvent({
  subject: 'Post.published',
  version: 1,
  schema: z.object({ postId: z.string() }),
})
const PostIndexed = defineEvent({
  subject: 'Post.indexed',
  version: 1,
  schema: z.object({ postId: z.string() }),
})

/** Publishes the post, then throws on its first two runs. */
function throwsTwice(): EventHandler<{ postId: string }> {
  let runs = 0
  return async (event, ctx) => {
    await ctx.publish(PostIndexed, { postId: event.data.postId })
    runs += 1
    if (runs <= 2) throw new Error(`the index is not ready (run ${runs})`)
  }
}

let service: Service
beforeAll(async () => {
  service = await createTestService(ns, servers, 'search')
  service.on(PostPublished, { handler: 'index' }, throwsTwice())
  service.on(PostPublished, { handler: 'strict' }, async () => undefined)
  await service.start()
})
afterAll(async () => {
  await service.stop()
  await nc.close()
  await mongo.close()
  await ns.cleanup()
})

describe('testHandler and a service on real servers', () => {
  it('a handler that throws twice, then succeeds: retry, retry, ack; the same failures and children', async () => {
    const harness = testHandler(PostPublished, throwsTwice(), {
      service: 'search',
      handler: 'index',
    })
    const runs = await harness.deliverUntilSettled({ data: { postId: 'p1' } })
    expect(runs.map((r) => r.outcome.kind)).toEqual(['retry', 'retry', 'ack'])

    const op = await service.startOperation({ name: 'publishPost' })
    const eventId = await op.publish(PostPublished, { postId: 'p1' })
    const key = deliveryKey(eventId, 'search.index')
    await eventually(async () => expect(await store.processed.countDocuments({ _id: key })).toBe(1))
    const failure = await store.failures.findOne({ _id: key })
    expect(failure?.attempts.map((a) => [a.attempt, a.message])).toEqual([
      [1, 'the index is not ready (run 1)'],
      [2, 'the index is not ready (run 2)'],
    ])
    // Each run re-emits the same child: one event on the servers, the same id on every run in memory.
    const children = await eventually(async () => {
      const found = await store.events.find({ parentId: eventId }).toArray()
      expect(found).toHaveLength(1)
      return found
    })
    expect(children.map((c) => [c.subject, c.data, c.operationId])).toEqual([
      ['Post.indexed', { postId: 'p1' }, op.id],
    ])
    const [first] = runs
    expect(new Set(runs.flatMap((r) => r.published.map((p) => p.id))).size).toBe(1)
    expect(first!.published.map((p) => [p.subject, p.data])).toEqual([
      ['Post.indexed', { postId: 'p1' }],
    ])
  })

  it('invalid data: to the DLQ on the first delivery, with the same reason', async () => {
    const harness = testHandler(PostPublished, async () => undefined, {
      service: 'search',
      handler: 'strict',
    })
    const [run, ...more] = await harness.deliverUntilSettled({ data: { postId: 42 } as never })
    expect(more).toEqual([])

    // Published as the framework would (signed), with data the framework would never send.
    const publish = await signedPublisher(service.store, jetstream(nc))
    const h = headers()
    h.set('Event-Id', 'invalid-post')
    h.set('Event-Version', '1')
    h.set('Event-Created-At', new Date().toISOString())
    await publish(`${ns.subjectPrefix}.Post.published`, JSON.stringify({ postId: 42 }), {
      msgID: 'invalid-post',
      headers: h,
    })
    const entry = (await service.dlq.get(
      await dlqEntryIdOf(service, 'invalid-post', 'search.strict'),
    ))!
    const expected: HandlerOutcome = {
      kind: 'deadLetter',
      reason: entry.reason,
      attempts: entry.attempts.map((a) => ({ attempt: a.attempt, message: a.message })),
      trusted: entry.trusted,
    }
    expect(run!.outcome).toEqual(expected)
    expect(entry.reason).toContain('Post.published data is invalid: postId:')
    expect(entry.attempts.map((a) => a.attempt)).toEqual([1])
  })
})
