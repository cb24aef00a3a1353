import { join } from 'node:path'
import {
  createTestNamespace,
  eventually,
  getTestServers,
  startNodeProcess,
} from '@event-driven/testing'
import { BSON, MongoClient, type Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import type { Service } from '../service.ts'
import { eventStore, type EventStore } from '../store/event-store.ts'
import { operationChain } from '../store/operation-chain.ts'
import { format1Fixtures, loadFormat1Fixtures } from '../testing/format-1-fixtures.ts'
import { createTestService, databaseName } from '../testing/test-service.ts'
import { currentFormat } from './formats.ts'
import { migrateFramework } from './framework-migration.ts'

// Records written by release 0.1 (format 1), made by its own code (fixtures/make-format-1.ts),
// read, redriven, replayed and migrated by this version.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'format 1')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const fixtures = format1Fixtures()
const fixtureCount = Object.values(fixtures.collections).reduce((n, docs) => n + docs.length, 0)

const migrator = join(import.meta.dirname, '../testing/migrate-framework-process.ts')

const ReportRequested = defineEvent({
  subject: 'Report.requested',
  version: 1,
  schema: z.object({ reportId: z.string(), format: z.string() }),
})
const TaskCreated = defineEvent({
  subject: 'Task.created',
  version: 1,
  schema: z.object({ taskId: z.string(), title: z.string() }),
})

/** Extended JSON, relaxed: numbers as numbers, whatever BSON type held them. */
const relaxed = (doc: object): unknown => JSON.parse(BSON.EJSON.stringify(doc, { relaxed: true }))

/** A database of its own, holding the fixtures as 0.1 left them. */
async function fixtureStore(scope: string): Promise<{ db: Db; store: EventStore }> {
  const db = mongo.db(databaseName(ns, scope))
  await loadFormat1Fixtures(db)
  return { db, store: eventStore(db) }
}

/** Every document of the fixtures' collections, with its format. */
async function formats(db: Db): Promise<Map<string, number | undefined>> {
  const found = new Map<string, number | undefined>()
  for (const name of Object.keys(fixtures.collections))
    for (const doc of await db.collection<{ _id: string; format?: number }>(name).find().toArray())
      found.set(`${name}/${doc._id}`, doc.format)
  return found
}

afterAll(async () => {
  await mongo.close()
  await ns.cleanup()
})

describe('records of the previous release, read by this one', () => {
  let store: EventStore
  let tasks: Service
  let notifier: Service
  const rendered: string[] = []
  const counted: { taskId: string; redelivery?: string }[] = []
  beforeAll(async () => {
    ;({ store } = await fixtureStore('read'))
    // The same consumer groups as the release that wrote them, on a stream of this test.
    tasks = await createTestService(ns, servers, 'tasks', { scope: 'read' })
    tasks.on(ReportRequested, { handler: 'renderReport' }, async (event) => {
      rendered.push(event.data.reportId)
    })
    notifier = await createTestService(ns, servers, 'notifier', { scope: 'read' })
    notifier.on(TaskCreated, { handler: 'countTasks' }, async (event) => {
      counted.push({ taskId: event.data.taskId, redelivery: event.redelivery })
    })
    await tasks.start()
    await notifier.start()
  })
  afterAll(async () => {
    await tasks.stop()
    await notifier.stop()
  })

  it('has every kind of record, none with a format', () => {
    expect(Object.keys(fixtures.collections)).toEqual(
      expect.arrayContaining(['operations', 'events', 'outbox', 'processed', 'failures', 'dlq']),
    )
    for (const docs of Object.values(fixtures.collections))
      for (const doc of docs) expect(doc.format).toBeUndefined()
  })

  it('reads an operation’s chain whole: its events, their parent, the groups that handled them', async () => {
    const chain = await operationChain(store, 'fixture-create-task-1')
    expect(chain).toMatchObject({ name: 'createTask', status: 'completed' })
    const [created, assigned] = chain!.events
    expect(created).toMatchObject({ subject: 'Task.created', parentId: 'fixture-create-task-1' })
    expect(created!.handledBy).toEqual(
      expect.arrayContaining(['notifier.countTasks', 'tasks.assignTask', 'tasks.indexTask']),
    )
    expect(assigned).toMatchObject({
      subject: 'Task.assigned',
      parentId: created!.id,
      publishedBy: 'tasks.assignTask',
      handledBy: ['notifier.notifyAssignee'],
    })
  })

  it('redrives a DLQ entry the previous release wrote: this one handles it', async () => {
    const entry = fixtures.collections.dlq!.find(
      (e) => e.status === 'open' && e.trusted === true && e.subject === 'Report.requested',
    )!
    const result = await tasks.dlq.redrive(String(entry._id), 'upgrade test')
    expect(result).toMatchObject({ ok: true, entry: { status: 'redriven' } })
    await eventually(() => expect(rendered).toHaveLength(1))
    expect(rendered[0]).toMatch(/^report-/)
  })

  it('an untrusted entry of the previous release stays refused', async () => {
    const entry = fixtures.collections.dlq!.find((e) => e.trusted === false)!
    expect(await tasks.dlq.redrive(String(entry._id), 'upgrade test')).toMatchObject({
      ok: false,
      code: 'untrusted',
    })
  })

  it('replays events the previous release stored to one consumer group', async () => {
    const result = await notifier.replay({
      select: { operationId: 'fixture-create-task-1', consumerGroup: 'notifier.countTasks' },
      to: 'notifier.countTasks',
    })
    expect(result).toMatchObject({ matched: 1, delivered: 1 })
    await eventually(() =>
      expect(counted).toContainEqual({
        taskId: expect.any(String) as string,
        redelivery: 'replay',
      }),
    )
  })
})

describe('the framework migration (format 1 → 2)', () => {
  it('counts on a dry run, then moves every record once, filling what format 2 adds', async () => {
    const { db, store } = await fixtureStore('migrate')
    // Ledger entries as 0.1 wrote them before they carried their operation.
    const bare = fixtures.collections.processed!.slice(0, 2).map((d) => String(d._id))
    await store.processed.updateMany({ _id: { $in: bare } }, { $unset: { operationId: '' } })
    // An event as archived by a release before `archived` existed.
    const archivedBefore = fixtures.collections.events!.find((e) => e.archivedAt)!
    await store.events.updateOne({ _id: String(archivedBefore._id) }, { $unset: { archived: '' } })

    const dryRun = await migrateFramework({ store, dryRun: true })
    expect(dryRun).toMatchObject({ total: fixtureCount, migrated: 0, dryRun: true })
    expect([...(await formats(db)).values()].every((f) => f === undefined)).toBe(true)

    const progress: string[] = []
    const report = await migrateFramework({
      store,
      batchSize: 7,
      onProgress: ({ collection, done, total }) => progress.push(`${collection} ${done}/${total}`),
    })
    expect(report).toMatchObject({ total: fixtureCount, migrated: fixtureCount })
    expect(progress).toContain(`events 12/12`)
    expect(new Set((await formats(db)).values())).toEqual(new Set([currentFormat]))
    for (const id of bare) {
      const original = fixtures.collections.processed!.find((d) => d._id === id)!
      expect((await store.processed.findOne({ _id: id }))?.operationId).toBe(original.operationId)
    }
    expect(await store.events.findOne({ _id: String(archivedBefore._id) })).toMatchObject({
      archived: true,
    })
    // Nothing else changed: the fixtures' other fields are as 0.1 wrote them.
    const event = fixtures.collections.events![0]!
    const { format, ...stored } = (await store.events.findOne({ _id: String(event._id) }))!
    expect(format).toBe(currentFormat)
    expect(relaxed(stored)).toEqual(relaxed(event))

    expect(await migrateFramework({ store })).toMatchObject({ total: 0, migrated: 0 })
  })

  it('two migrations started together: one moves everything, once', async () => {
    const { db, store } = await fixtureStore('twice')
    const [a, b] = await Promise.all([
      migrateFramework({ store, batchSize: 5, holder: 'a' }),
      migrateFramework({ store, batchSize: 5, holder: 'b' }),
    ])
    expect(a.migrated + b.migrated).toBe(fixtureCount)
    expect([a.migrated, b.migrated]).toContain(0)
    const refused = a.migrated === 0 ? a : b
    // Refused while the other held the lease, or found nothing left once it was done.
    if (refused.heldBy) expect(refused.heldBy.holder).toBe(refused === a ? 'b' : 'a')
    expect(new Set((await formats(db)).values())).toEqual(new Set([currentFormat]))
  })

  it('killed midway (SIGKILL), the next run moves what is left once the lease runs out', async () => {
    const { db } = await fixtureStore('killed')
    const env = {
      MONGODB_URL: servers.mongodbUrl,
      ED_DATABASE: databaseName(ns, 'killed'),
      ED_BATCH_SIZE: '1',
      ED_LEASE_MS: '1500',
    }
    const first = startNodeProcess(migrator, [], env)
    await eventually(() => expect(first.output()).toMatch(/moved \S+ \d+\/\d+/), {
      timeoutMs: 30_000,
    })
    first.child.kill('SIGKILL')
    await first.exited
    const afterKill = [...(await formats(db)).values()]
    const moved = afterKill.filter((f) => f === currentFormat).length
    expect(moved).toBeGreaterThan(0)
    expect(moved).toBeLessThan(fixtureCount)

    // The killed run's lease holds the next one off until it runs out; then it finishes.
    await eventually(
      async () => {
        const next = startNodeProcess(migrator, [], env)
        await next.exited
        expect(next.output()).toContain(`done ${fixtureCount - moved}`)
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    )
    expect(new Set((await formats(db)).values())).toEqual(new Set([currentFormat]))
  })
})
