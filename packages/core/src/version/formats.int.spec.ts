import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import {
  createTestNamespace,
  eventually,
  getTestServers,
  startSlackReceiver,
} from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createArchiver } from '../archive/archiver.ts'
import { defineEvent } from '../event-definition.ts'
import type { Service } from '../service.ts'
import { testArchiveOptions } from '../testing/archive.ts'
import { format1Fixtures } from '../testing/format-1-fixtures.ts'
import {
  captureLogs,
  createTestService,
  databaseName,
  fastTestOptions,
} from '../testing/test-service.ts'
import { newId } from '../ids.ts'
import { currentFormat, previousFormat } from './formats.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'formats')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const services: Service[] = []
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()))
  await mongo.close()
  await ns.cleanup()
})

const TaskCreated = defineEvent({
  subject: 'Task.created',
  version: 1,
  schema: z.object({ taskId: z.string() }),
})
const TaskAssigned = defineEvent({
  subject: 'Task.assigned',
  version: 1,
  schema: z.object({ taskId: z.string() }),
})

describe('what this version writes', () => {
  it('every record of every framework collection carries the current format', async () => {
    const slack = await startSlackReceiver()
    const service = await createTestService(ns, servers, 'tasks', {
      scope: 'writers',
      retry: { baseDelayMs: 20, maxDelayMs: 50, maxFailures: 2 },
      alerts: { slackWebhookUrl: slack.url, windowMs: 200, checkIntervalMs: 50 },
    })
    services.push(service)
    service.on(TaskCreated, { handler: 'assign' }, async (event, ctx) => {
      await ctx.publish(TaskAssigned, { taskId: event.data.taskId })
    })
    service.on(TaskCreated, { handler: 'index' }, async () => {
      throw new Error('the index is down')
    })
    const tasks = service.entityState<{ title: string }>({ type: 'task', apply: async () => {} })
    await service.start()

    const op = await service.startOperation({ name: 'createTask' })
    await op.publish(TaskCreated, { taskId: 't1' })
    await op.change(tasks, {
      key: 't1',
      expectedPosition: 0,
      state: () => ({ title: 'Write the docs' }),
      event: TaskAssigned,
      data: () => ({ taskId: 't1' }),
    })
    await op.complete()
    const { store } = service
    await eventually(async () => expect(await store.dlq.countDocuments()).toBe(1), {
      timeoutMs: 20_000,
    })
    const [entry] = (await service.dlq.list()).entries
    await service.dlq.discard(entry!._id, 'formats test', 'checked')
    await slack.waitForDelivered(1, { timeoutMs: 20_000 })
    await eventually(async () =>
      expect(await store.processed.countDocuments()).toBeGreaterThanOrEqual(1),
    )
    const archiver = createArchiver({
      store,
      archive: testArchiveOptions(servers.s3, `${ns.bucket}-formats`, { settleMs: 1 }),
      logger: pino({ level: 'silent' }),
    })
    while ((await archiver.runOnce()).archived > 0);

    const db = mongo.db(databaseName(ns, 'writers'))
    const written: Record<string, number[]> = {}
    for (const { name } of await db.listCollections().toArray()) {
      const docs = await db.collection<{ format?: number }>(name).find().toArray()
      if (docs.length > 0) written[name] = [...new Set(docs.map((d) => d.format ?? 1))]
    }
    // The kinds this story writes: each one, and nothing in another format.
    expect(Object.keys(written)).toEqual(
      expect.arrayContaining([
        'operations',
        'operation_ends',
        'events',
        'processed',
        'failures',
        'dlq',
        'dlq_actions',
        'dlq_alert_claims',
        'changes',
        'archive_claims',
        'framework_keys',
      ]),
    )
    for (const [name, formats] of Object.entries(written))
      expect({ name, formats }).toEqual({ name, formats: [currentFormat] })
    await slack.close()
  })
})

describe('a rolling deploy: one consumer group, an instance on each format', () => {
  it('1,000 events, half published in the previous format: each handled once, none lost', async () => {
    const options = { scope: 'rolling', ackWaitMs: 30_000 }
    const handled = new Map<string, string[]>()
    const instance = async (label: string, messageFormat: 1 | 2) => {
      const service = await createTestService(ns, servers, 'shop', { ...options, messageFormat })
      services.push(service)
      service.on(TaskCreated, { handler: 'count', concurrency: 16 }, async (event) => {
        handled.set(event.id, [...(handled.get(event.id) ?? []), label])
      })
      await service.start()
      return service
    }
    const previous = await instance('previous', previousFormat)
    const current = await instance('current', currentFormat)

    const publishAll = async (service: Service, prefix: string) => {
      const op = await service.startOperation({ name: 'import' })
      await Promise.all(
        Array.from({ length: 500 }, (_, n) => op.publish(TaskCreated, { taskId: `${prefix}${n}` })),
      )
      await op.complete()
    }
    await Promise.all([publishAll(previous, 'p'), publishAll(current, 'c')])

    await eventually(() => expect(handled.size).toBe(1_000), { timeoutMs: 60_000 })
    const twice = [...handled.entries()].filter(([, by]) => by.length > 1)
    expect(twice).toEqual([])
    const by = [...handled.values()].flat()
    expect(by).toContain('previous')
    expect(by).toContain('current')
    const store = current.store
    expect(await store.dlq.countDocuments()).toBe(0)

    // On the wire: half the messages without the format header (format 1), half with 2.
    const nc = await connect({ servers: servers.natsUrl })
    try {
      const jsm = await jetstreamManager(nc)
      const stream = fastTestOptions(ns, 'rolling').stream!.name!
      const formats = new Map<string, number>()
      const { messages } = (await jsm.streams.info(stream)).state
      for (let seq = 1; seq <= messages; seq++) {
        const message = await jsm.streams.getMessage(stream, { seq })
        const format = message?.header?.get('Event-Format') || '1'
        formats.set(format, (formats.get(format) ?? 0) + 1)
      }
      expect(Object.fromEntries(formats)).toEqual({ '1': 500, '2': 500 })
    } finally {
      await nc.close()
    }
  })
})

describe('records a newer version wrote (a deploy rolled back)', () => {
  it('the relay publishes the outbox records it reads and leaves a newer one, saying why', async () => {
    const logs = captureLogs('warn')
    const service = await createTestService(ns, servers, 'tasks', {
      scope: 'newer',
      logger: logs.logger,
    })
    services.push(service)
    const seen: string[] = []
    service.on(TaskCreated, { handler: 'count' }, async (event) => {
      seen.push(event.data.taskId)
    })
    await service.start()
    const record = (taskId: string, format?: number) => ({
      _id: newId(),
      subject: TaskCreated.subject,
      version: 1,
      data: { taskId },
      operationId: 'op-newer',
      parentId: 'op-newer',
      publishedBy: { service: 'tasks' },
      createdAt: new Date(Date.now() - 60_000),
      ...(format === undefined ? {} : { format }),
    })
    const newer = record('from-format-3', currentFormat + 1)
    await service.store.outbox.insertMany([record('from-format-1'), newer])

    await eventually(() => expect(seen).toEqual(['from-format-1']))
    await eventually(() =>
      expect(JSON.stringify(logs.lines)).toContain(
        `event ${newer._id} is in format ${currentFormat + 1}, written by a newer version of event-driven`,
      ),
    )
    expect(await service.store.outbox.findOne({ _id: newer._id })).not.toBeNull()
    expect(seen).toEqual(['from-format-1'])
  })

  it('a DLQ entry of a newer format is not acted on, with the reason', async () => {
    const service = services.at(-1)!
    const entry = format1Fixtures().collections.dlq!.find((e) => e.status === 'open')!
    await service.store.dlq.insertOne({ ...entry, format: currentFormat + 1 } as never)
    expect(await service.dlq.redrive(String(entry._id), 'rollback test')).toEqual({
      ok: false,
      code: 'format-unsupported',
      reason: `DLQ entry ${String(entry._id)} is in format ${currentFormat + 1}, written by a newer version of event-driven; this instance reads formats ${previousFormat} and ${currentFormat}: upgrade it (docs/upgrading.md)`,
    })
    expect((await service.store.dlq.findOne({ _id: String(entry._id) }))?.status).toBe('open')
  })
})
