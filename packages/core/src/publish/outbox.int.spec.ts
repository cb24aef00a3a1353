import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import {
  createTestNamespace,
  eventually,
  getTestServers,
  startNatsServer,
  startTcpProxy,
} from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { PublishError, RecordError } from '../errors.ts'
import { defineEvent } from '../event-definition.ts'
import { newId } from '../ids.ts'
import type { Service, ServiceOptions } from '../service.ts'
import { eventStore, type EventRecord } from '../store/event-store.ts'
import { createTestService, databaseName } from '../testing/test-service.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'outbox')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
/** The event store of a test's scope (each scope has its own database). */
const storeOf = (scope: string) => eventStore(mongo.db(databaseName(ns, scope)))
let nc: NatsConnection
let jsm: JetStreamManager
const services: Service[] = []
beforeAll(async () => {
  nc = await connect({ servers: servers.natsUrl })
  jsm = await jetstreamManager(nc)
})
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()))
  await nc.close()
  await mongo.close()
  await ns.cleanup()
})

const BlogCreated = defineEvent({
  subject: 'Blog.created',
  version: 1,
  schema: z.object({ blogId: z.string(), title: z.string() }),
})

async function service(name: string, overrides: Partial<ServiceOptions> & { scope?: string } = {}) {
  const created = await createTestService(ns, servers, name, overrides)
  services.push(created)
  return created
}

async function streamMessages(scope: string) {
  return (await jsm.streams.info(`${ns.subjectPrefix}_${scope}_EVENTS`)).state.messages
}

/** An event recorded in the outbox and never published, as a crash right after the write leaves it. */
function strandedEvent(operationId: string): EventRecord {
  return {
    _id: newId(),
    subject: 'Blog.created',
    version: 1,
    data: { blogId: 'b-stranded', title: 'left behind' },
    operationId,
    parentId: operationId,
    publishedBy: { service: 'blogs' },
    createdAt: new Date(Date.now() - 60_000),
  }
}

describe('outbox publishing', () => {
  it('records the event, publishes it with its ids in headers and Nats-Msg-Id, then marks it published', async () => {
    const svc = await service('blogs', { scope: 'headers' })
    const store = storeOf('headers')
    const op = await svc.startOperation({
      name: 'blogCreate',
      input: { title: 'Hello' },
      actor: 'u1',
    })
    const eventId = await op.publish(BlogCreated, { blogId: 'b1', title: 'Hello' })

    // Moved from the outbox to events, with publishedAt, just after JetStream took it.
    await eventually(async () =>
      expect(await store.outbox.countDocuments({ _id: eventId })).toBe(0),
    )
    const stored = await store.events.findOne({ _id: eventId })
    expect(stored).toMatchObject({
      subject: 'Blog.created',
      version: 1,
      operationId: op.id,
      parentId: op.id,
    })
    expect(stored?.publishedAt?.getTime()).toBeGreaterThanOrEqual(stored!.createdAt.getTime())

    const message = await jsm.streams.getMessage(`${ns.subjectPrefix}_headers_EVENTS`, { seq: 1 })
    expect(message?.subject).toBe(`${ns.subjectPrefix}_headers.Blog.created`)
    expect(message?.json()).toEqual({ blogId: 'b1', title: 'Hello' })
    expect(message?.header.get('Nats-Msg-Id')).toBe(eventId)
    expect(message?.header.get('Event-Id')).toBe(eventId)
    expect(message?.header.get('Operation-Id')).toBe(op.id)
    expect(message?.header.get('Parent-Id')).toBe(op.id)
    expect(message?.header.get('Event-Version')).toBe('1')
  })

  it('concurrent publishes share writes, and each resolves once its event is published', async () => {
    const svc = await service('blogs', { scope: 'group' })
    const store = storeOf('group')
    const op = await svc.startOperation({ name: 'import' })
    const ids = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        op.publish(BlogCreated, { blogId: `b${i}`, title: `t${i}` }),
      ),
    )
    expect(new Set(ids).size).toBe(300)
    expect(await streamMessages('group')).toBe(300)
    await eventually(async () =>
      expect(await store.outbox.countDocuments({ operationId: op.id })).toBe(0),
    )
    expect(
      await store.events.countDocuments({ operationId: op.id, publishedAt: { $exists: true } }),
    ).toBe(300)
  })

  it('a crash between record and publish: the relay publishes the event once, even with two instances', async () => {
    const first = await service('blogs', { scope: 'relay' })
    const store = storeOf('relay')
    const second = await service('blogs', { scope: 'relay' })
    const stranded = strandedEvent(newId())
    await store.outbox.insertOne(stranded)
    await first.start()
    await second.start()

    await eventually(async () =>
      expect(await store.outbox.countDocuments({ _id: stranded._id })).toBe(0),
    )
    expect(await store.events.findOne({ _id: stranded._id })).toMatchObject({
      publishedAt: expect.any(Date) as Date,
    })
    expect(await streamMessages('relay')).toBe(1)

    // The same id published again (a relay that read it before the move) is dropped by JetStream.
    await store.outbox.insertOne(stranded)
    await eventually(async () =>
      expect(await store.outbox.countDocuments({ _id: stranded._id })).toBe(0),
    )
    expect(await streamMessages('relay')).toBe(1)
    expect(await store.events.countDocuments({ _id: stranded._id })).toBe(1)
    const direct = await jetstream(nc).publish(`${ns.subjectPrefix}_relay.Blog.created`, '{}', {
      msgID: stranded._id,
    })
    expect(direct.duplicate).toBe(true)
  })
})

describe('with a server down', () => {
  it('NATS down: publish rejects with a clear error in bounded time; the relay publishes once NATS returns', async () => {
    const broker = await startNatsServer()
    try {
      const svc = await service('blogs', { nats: broker.url, scope: 'natsdown' })
      const store = storeOf('natsdown')
      const seen: string[] = []
      svc.on(BlogCreated, { handler: 'index' }, async (event) => {
        seen.push(event.data.blogId)
      })
      await svc.start()
      const op = await svc.startOperation({ name: 'blogCreate' })
      await broker.stop()

      const started = Date.now()
      const error = await op.publish(BlogCreated, { blogId: 'b-down', title: 'offline' }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(PublishError)
      expect((error as PublishError).message).toMatch(
        /is recorded but NATS did not confirm it .* the relay publishes it when NATS answers/,
      )
      expect(Date.now() - started).toBeLessThan(15_000) // bounded: 2 s publish timeout, far from a hang
      const eventId = (error as PublishError).eventId
      expect(await store.outbox.countDocuments({ _id: eventId })).toBe(1)

      await broker.start()
      await eventually(() => expect(seen).toEqual(['b-down']), { timeoutMs: 20_000 })
      await eventually(async () =>
        expect(await store.outbox.countDocuments({ _id: eventId })).toBe(0),
      )
      expect(
        await store.events.countDocuments({ _id: eventId, publishedAt: { $exists: true } }),
      ).toBe(1)
    } finally {
      await Promise.all(services.splice(0).map((s) => s.stop()))
      await broker.dispose()
    }
  })

  it('MongoDB down: publish rejects with a clear error in bounded time and publishes nothing', async () => {
    const url = new URL(servers.mongodbUrl)
    const proxy = await startTcpProxy(url.hostname, Number(url.port || 27017))
    try {
      const svc = await service('blogs', {
        mongodb: proxy.proxiedUrl(servers.mongodbUrl),
        scope: 'mongodown',
      })
      const op = await svc.startOperation({ name: 'blogCreate' })
      await proxy.cut()

      const started = Date.now()
      const error = await op.publish(BlogCreated, { blogId: 'b-nodb', title: 'no db' }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(RecordError)
      expect((error as Error).message).toMatch(
        /^MongoDB did not record 1 event\(s\) \(.+\); nothing was published$/,
      )
      expect(Date.now() - started).toBeLessThan(15_000)
      expect(await streamMessages('mongodown')).toBe(0)

      await proxy.restore()
      await op.publish(BlogCreated, { blogId: 'b-back', title: 'back' })
      expect(await streamMessages('mongodown')).toBe(1)
    } finally {
      await Promise.all(services.splice(0).map((s) => s.stop()))
      await proxy.close()
    }
  })
})
