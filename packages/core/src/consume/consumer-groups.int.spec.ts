import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ConfigurationError } from '../errors.ts'
import { defineEvent } from '../event-definition.ts'
import type { Service } from '../service.ts'
import { eventStore } from '../store/event-store.ts'
import { TaskCreated, type EffectRecord } from '../testing/task-events.ts'
import { startServiceProcess, taskServiceEnv } from '../testing/process.ts'
import { createTestService } from '../testing/test-service.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'consumer groups')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const store = eventStore(mongo.db(ns.database))
const services: Service[] = []
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()))
  await mongo.close()
  await ns.cleanup()
})

const UserRegistered = defineEvent({
  subject: 'User.registered',
  version: 1,
  schema: z.object({ userId: z.string(), username: z.string() }),
})

async function service(name: string) {
  const created = await createTestService(ns, servers, name)
  services.push(created)
  return created
}

describe('consumer groups', () => {
  it('one event, two consumer groups: each handles it exactly once', async () => {
    const blogs = await service('blogs')
    const comments = await service('comments')
    const seen: string[] = []
    blogs.on(UserRegistered, { handler: 'createAuthor' }, async (e) => {
      seen.push(`blogs:${e.data.userId}`)
    })
    comments.on(UserRegistered, { handler: 'createAuthor' }, async (e) => {
      seen.push(`comments:${e.data.userId}`)
    })
    await blogs.start()
    await comments.start()
    const users = await service('users')
    const op = await users.startOperation({
      name: 'userRegister',
      input: { username: 'ada' },
      actor: 'anonymous',
    })
    const eventId = await op.publish(UserRegistered, { userId: 'u1', username: 'ada' })
    await op.complete()

    await eventually(() => expect(seen.sort()).toEqual(['blogs:u1', 'comments:u1']))
    await eventually(async () =>
      expect((await store.processed.find().toArray()).map((p) => p._id).sort()).toEqual([
        `${eventId}/blogs.createAuthor`,
        `${eventId}/comments.createAuthor`,
      ]),
    )
    // Nothing pending or unacknowledged in either durable.
    const nc = await connect({ servers: servers.natsUrl })
    try {
      const jsm = await jetstreamManager(nc)
      for (const durable of ['blogs_createAuthor', 'comments_createAuthor']) {
        await eventually(async () => {
          const info = await jsm.consumers.info(`${ns.subjectPrefix}_EVENTS`, durable)
          expect([info.num_pending, info.num_ack_pending, info.num_redelivered]).toEqual([0, 0, 0])
        })
      }
    } finally {
      await nc.close()
    }
    expect(await store.operations.findOne({ _id: op.id })).toMatchObject({
      name: 'userRegister',
      status: 'completed',
      actor: 'anonymous',
    })
    // Marked published (moved from the outbox to events) just after JetStream took it.
    await eventually(async () =>
      expect(await store.events.findOne({ _id: eventId })).toMatchObject({
        subject: 'User.registered',
        operationId: op.id,
        parentId: op.id,
        publishedAt: expect.any(Date) as Date,
      }),
    )
  })

  it('runs at most `concurrency` deliveries of a handler at once in an instance', async () => {
    const svc = await createTestService(ns, servers, 'bounded', { scope: 'bounded' })
    services.push(svc)
    let running = 0
    let most = 0
    let done = 0
    svc.on(UserRegistered, { handler: 'slowCopy', concurrency: 3 }, async () => {
      running += 1
      most = Math.max(most, running)
      await new Promise((resolve) => setTimeout(resolve, 50))
      running -= 1
      done += 1
    })
    await svc.start()
    const op = await svc.startOperation({ name: 'importUsers' })
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        op.publish(UserRegistered, { userId: `u${i}`, username: `n${i}` }),
      ),
    )
    await eventually(() => expect(done).toBe(30))
    expect(most).toBe(3)
  })

  it('an event published again after the duplicate window is acked without running the handler again', async () => {
    const scope = 'repeat'
    const svc = await createTestService(ns, servers, 'repeat', {
      scope,
      stream: {
        name: `${ns.subjectPrefix}_${scope}_EVENTS`,
        subjectPrefix: `${ns.subjectPrefix}_${scope}`,
        duplicateWindowMs: 1_000,
      },
    })
    services.push(svc)
    let runs = 0
    svc.on(UserRegistered, { handler: 'copyUser' }, async () => {
      runs += 1
    })
    await svc.start()
    const op = await svc.startOperation({ name: 'userRegister' })
    const eventId = await op.publish(UserRegistered, { userId: 'u9', username: 'grace' })
    await eventually(() => expect(runs).toBe(1))

    // A relay that republishes it (as after a crash between publish and move) once JetStream no
    // longer drops the copy: the copy is a new message, first delivered, marked by the relay.
    const stored = await eventually(async () => {
      const found = await svc.store.events.findOne({ _id: eventId })
      expect(found).not.toBeNull()
      return found
    })
    const streamName = `${ns.subjectPrefix}_${scope}_EVENTS`
    const nc = await connect({ servers: servers.natsUrl })
    try {
      const jsm = await jetstreamManager(nc)
      await eventually(
        async () => {
          if ((await svc.store.outbox.countDocuments({ _id: eventId })) === 0) {
            await svc.store.outbox.insertOne({ ...stored!, createdAt: new Date(0) })
          }
          expect((await jsm.streams.info(streamName)).state.messages).toBe(2)
        },
        { timeoutMs: 10_000, intervalMs: 200 },
      )
      await eventually(async () => {
        const info = await jsm.consumers.info(streamName, 'repeat_copyUser')
        expect({ pending: info.num_pending, ackPending: info.num_ack_pending }).toEqual({
          pending: 0,
          ackPending: 0,
        })
      })
    } finally {
      await nc.close()
    }
    expect(runs).toBe(1)
  })

  it('refuses a handler without a name, with a bad name, or with a name used twice', async () => {
    const svc = await service('names')
    const noop = async () => {}
    expect(() => svc.on(UserRegistered, {} as { handler: string }, noop)).toThrow(
      ConfigurationError,
    )
    expect(() => svc.on(UserRegistered, { handler: 'has.dot' }, noop)).toThrow(/camelCase/)
    svc.on(UserRegistered, { handler: 'once' }, noop)
    expect(() => svc.on(UserRegistered, { handler: 'once' }, noop)).toThrow(/used twice/)
  })
})

describe('two instances of one service', () => {
  it('share one durable: 200 events split between them, each handled once', async () => {
    const env = {
      ...taskServiceEnv(ns, servers),
      HANDLER_DELAY_MS: '5',
    }
    const a = startServiceProcess('task-service.ts', { ...env, INSTANCE: 'a' })
    const b = startServiceProcess('task-service.ts', { ...env, INSTANCE: 'b' })
    try {
      await Promise.all([a.ready, b.ready])
      const publisher = await service('tasks-client')
      const op = await publisher.startOperation({ name: 'createTasks' })
      await Promise.all(Array.from({ length: 200 }, (_, n) => op.publish(TaskCreated, { n })))

      const effects = mongo.db(ns.database).collection<EffectRecord>('effects')
      await eventually(async () => expect(await effects.countDocuments()).toBe(200), {
        timeoutMs: 30_000,
      })
      const all = await effects.find().toArray()
      expect(all.filter((e) => e.runs !== 1)).toEqual([])
      const byInstance = { a: 0, b: 0 }
      for (const effect of all) byInstance[effect.instances[0] as 'a' | 'b'] += 1
      expect(byInstance.a).toBeGreaterThan(0)
      expect(byInstance.b).toBeGreaterThan(0)
    } finally {
      a.child.kill('SIGTERM')
      b.child.kill('SIGTERM')
      expect(await a.exited).toBe(0)
      expect(await b.exited).toBe(0)
    }
  })
})
