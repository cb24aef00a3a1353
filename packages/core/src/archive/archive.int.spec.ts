import {
  createS3Client,
  createTestNamespace,
  eventually,
  getTestServers,
  startS3Server,
} from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import { chooseRemover, sweepExpired } from '../retention/retention.ts'
import { eventStore, type EventStore } from '../store/event-store.ts'
import { readBucket, testArchiveOptions } from '../testing/archive.ts'
import { captureLogs, createTestService, databaseName } from '../testing/test-service.ts'
import { createArchiver, startArchiver, type ArchiveOptions } from './archiver.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'archive')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const s3 = createS3Client(servers.s3)
const silent = pino({ level: 'silent' })

afterAll(async () => {
  await mongo.close()
  await ns.cleanup()
})

/** Four subjects, so a batch spans several objects (one per day and subject). */
const subjects = ['Order.placed', 'Order.paid', 'Order.shipped', 'Order.cancelled'].map((subject) =>
  defineEvent({ subject, version: 1, schema: z.object({ n: z.number() }) }),
)

/** Publishes `count` events through a service (the real outbox path) in one operation per 100. */
async function publishEvents(
  scope: string,
  count: number,
): Promise<{ store: EventStore; ids: string[] }> {
  const service = await createTestService(ns, servers, 'shop', { scope })
  const ids: string[] = []
  for (let start = 0; start < count; start += 100) {
    const op = await service.startOperation({ name: 'ordersImport', input: { start } })
    ids.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(100, count - start) }, (_, i) =>
          op.publish(subjects[(start + i) % subjects.length]!, { n: start + i }),
        ),
      )),
    )
    await op.complete()
  }
  await service.stop()
  const store = eventStore(mongo.db(databaseName(ns, scope)))
  await eventually(async () => expect(await store.events.countDocuments()).toBe(count))
  return { store, ids }
}

const archiveOptions = (bucket: string, overrides: Partial<ArchiveOptions> = {}) =>
  testArchiveOptions(servers.s3, bucket, { leaseMs: 2_000, ...overrides })

describe('the S3 archive', () => {
  it('1,000 events with three archivers at once: each event in S3 exactly once, readable, and marked', async () => {
    const { store, ids } = await publishEvents('three', 1_000)
    const bucket = `${ns.bucket}-three`
    const archivers = Array.from({ length: 3 }, () =>
      createArchiver({
        store,
        archive: archiveOptions(bucket, { batchSize: 150 }),
        logger: silent,
      }),
    )
    // Each archiver runs until a pass finds nothing left: all three race for the same documents.
    await Promise.all(
      archivers.map(async (archiver) => {
        while ((await archiver.runOnce()).archived > 0);
      }),
    )

    const { objects, manifests, copies } = await readBucket(s3, bucket)
    const eventCopies = copies('events')
    expect(eventCopies.size).toBe(1_000)
    expect([...eventCopies.values()].every((n) => n === 1)).toBe(true)
    expect(new Set(eventCopies.keys())).toEqual(new Set(ids))
    // Operations (ended) are archived too; each once.
    expect([...copies('operations').values()]).toEqual(Array(10).fill(1))

    // Objects are partitioned by day and subject, and every one is listed in its batch's manifest.
    const listed = manifests.flatMap((m) => m.objects.map((o) => o.key))
    expect(new Set(listed)).toEqual(new Set(objects.keys()))
    for (const key of objects.keys()) {
      expect(key).toMatch(
        /^(events\/date=\d{4}-\d{2}-\d{2}\/subject=Order\.[a-z]+|operations\/date=\d{4}-\d{2}-\d{2})\/[0-9a-f-]{36}\.jsonl\.gz$/,
      )
    }
    const sample = [...objects.entries()].find(([key]) => key.startsWith('events/'))!
    expect(sample[1][0]).toMatchObject({
      subject: expect.stringMatching(/^Order\./) as string,
      version: 1,
      createdAt: expect.any(Date) as Date,
    })
    expect(sample[1][0]).not.toHaveProperty('archivedAt')

    // Each event records when and where it went; nothing is left claimed but unfinished.
    expect(await store.events.countDocuments({ archivedAt: { $exists: false } })).toBe(0)
    const one = await store.events.findOne({ _id: ids[0]! })
    expect(one?.archive).toEqual({ bucket, batchId: expect.any(String) as string })
    // Its batch's manifest lists the object that holds it.
    const manifest = manifests.find((m) => m.batchId === one?.archive?.batchId)
    const holder = manifest?.objects.find((o) =>
      objects.get(o.key)?.some((doc) => doc._id === one?._id),
    )
    expect(holder?.key).toContain('events/date=')
    expect(await store.archiveBatches.countDocuments()).toBe(0)
  })

  it('finds work by `archived: false`, and copies documents written before that field existed once', async () => {
    const { store, ids } = await publishEvents('legacy', 200)
    expect(await store.events.countDocuments({ archived: false })).toBe(200)
    // Half as an earlier version wrote them: no `archived` field at all.
    const legacy = ids.slice(0, 100)
    await store.events.updateMany({ _id: { $in: legacy } }, { $unset: { archived: '' } })
    const bucket = `${ns.bucket}-legacy`
    const archiver = createArchiver({
      store,
      archive: archiveOptions(bucket, { batchSize: 60 }),
      logger: silent,
    })
    while ((await archiver.runOnce()).archived > 0);

    const eventCopies = (await readBucket(s3, bucket)).copies('events')
    expect(new Set(eventCopies.keys())).toEqual(new Set(ids))
    expect([...eventCopies.values()].every((n) => n === 1)).toBe(true)
    expect(await store.events.countDocuments({ archived: true })).toBe(200)
    expect(await store.events.countDocuments({ archivedAt: { $exists: false } })).toBe(0)
    // The archived copy carries neither the marker nor where it went.
    const copy = [...(await readBucket(s3, bucket)).objects.values()].flat()[0]
    expect(copy).not.toHaveProperty('archived')
  })

  it('S3 stopped mid-archive, then started: nothing lost, nothing duplicated, nothing expired meanwhile', async () => {
    const { store, ids } = await publishEvents('outage', 600)
    const bucket = `${ns.bucket}-outage`
    // An S3 server of this test's own, to stop and start.
    const own = await startS3Server()
    const ownClient = createS3Client(own.s3)
    const logs = captureLogs('info')
    const archive = testArchiveOptions(own.s3, bucket, { batchSize: 40, leaseMs: 2_000 })
    archive.s3 = { ...archive.s3, maxAttempts: 1 }
    // Archived events may leave MongoDB at once (keep 0 ms): only unarchived ones must stay.
    const stop = startArchiver({ store, archive, keep: { eventsMs: 0 }, logger: logs.logger })
    try {
      await eventually(async () =>
        expect(
          await store.events.countDocuments({ archivedAt: { $exists: true } }),
        ).toBeGreaterThan(0),
      )
      await own.stop()
      // A batch is claimed and cannot be written: it waits, and the archiver says why.
      await eventually(async () =>
        expect(await store.archiveBatches.countDocuments()).toBeGreaterThan(0),
      )
      await eventually(() =>
        expect(logs.messages().some((m) => m.startsWith('archiving failed'))).toBe(true),
      )
      const unarchived = { archivedAt: { $exists: false } }
      const waiting = await store.events.countDocuments(unarchived)
      expect(waiting).toBeGreaterThan(0)
      await sweepExpired(store, { archiving: true })
      expect(await store.events.countDocuments(unarchived)).toBe(waiting) // none removed

      await own.start()
      await eventually(async () => expect(await store.events.countDocuments(unarchived)).toBe(0), {
        timeoutMs: 30_000,
      })
      await eventually(async () => expect(await store.archiveBatches.countDocuments()).toBe(0))
      const archived = copies(await readBucket(ownClient, bucket))
      expect(new Set(archived.keys())).toEqual(new Set(ids))
      expect([...archived.values()].every((n) => n === 1)).toBe(true)
      expect(logs.messages()).toContain('archiving works again')
    } finally {
      await stop()
      ownClient.destroy()
      await own.dispose()
    }
  })

  it('the sweeper removes archived, expired documents and no others', async () => {
    const { store, ids } = await publishEvents('sweep', 40)
    const bucket = `${ns.bucket}-sweep`
    const archiver = createArchiver({
      store,
      archive: archiveOptions(bucket),
      keep: { eventsMs: 0 },
      logger: silent,
    })
    // 30 archived with expireAt now; 10 left unarchived but given an expireAt in the past
    // (as retention without archiving would), and 5 of the archived kept for an hour.
    const unarchived = ids.slice(30)
    await store.events.updateMany(
      { _id: { $in: unarchived } },
      { $set: { archivedAt: new Date(0) } },
    )
    await archiver.runOnce()
    await store.events.updateMany(
      { _id: { $in: unarchived } },
      {
        $unset: { archivedAt: '', archive: '' },
        $set: { expireAt: new Date(Date.now() - 60_000) },
      },
    )
    const keptLonger = ids.slice(0, 5)
    await store.events.updateMany(
      { _id: { $in: keptLonger } },
      { $set: { expireAt: new Date(Date.now() + 3_600_000) } },
    )

    expect(await chooseRemover(store, { eventsMs: 0 })).toBe('sweeper') // FerretDB: no TTL index
    expect(await sweepExpired(store, { archiving: true })).toBe(25)
    const left = (await store.events.find({}, { projection: { _id: 1 } }).toArray()).map(
      (e) => e._id,
    )
    expect(new Set(left)).toEqual(new Set([...keptLonger, ...unarchived]))
    // Their claims stay a day longer than the documents, so no stale archiver copies them again.
    expect(
      await store.archiveClaims.countDocuments({
        _id: { $in: ids.slice(5, 30).map((id) => `events:${id}`) },
      }),
    ).toBe(25)

    // Archiving off (retention alone): expired means removed.
    expect(await sweepExpired(store, { archiving: false })).toBe(10)
  })

  it('a service with archiving and retention says how it removes, and removes events only once they are in S3', async () => {
    const logs = captureLogs('info')
    const bucket = `${ns.bucket}-service`
    const service = await createTestService(ns, servers, 'shop', {
      scope: 'service',
      logger: logs.logger,
      archive: archiveOptions(bucket),
      retention: { eventsMs: 0, operationsMs: 0, processedMs: 0, sweepIntervalMs: 50 },
    })
    const handled: number[] = []
    service.on(subjects[0]!, { handler: 'count' }, async (event) => void handled.push(event.data.n))
    await service.start()
    try {
      expect(logs.messages()).toContain(
        'retention: this server has no TTL indexes, so a sweeper removes events and operations after they are archived to S3 (never before), and processed-ledger entries once JetStream cannot redeliver their event',
      )
      const op = await service.startOperation({ name: 'ordersImport' })
      const ids = await Promise.all(
        Array.from({ length: 50 }, (_, n) => op.publish(subjects[n % subjects.length]!, { n })),
      )
      await op.complete()
      await eventually(async () => {
        expect(handled).toHaveLength(13)
        expect(await service.store.events.countDocuments()).toBe(0)
        expect(await service.store.operations.countDocuments()).toBe(0)
        // The ledger goes too (here at once; by default after the stream's max age).
        expect(await service.store.processed.countDocuments()).toBe(0)
      })
      const inS3 = copies(await readBucket(s3, bucket))
      expect(new Set(inS3.keys())).toEqual(new Set(ids))
      expect([...inS3.values()].every((n) => n === 1)).toBe(true)
    } finally {
      await service.stop()
    }
  })
})

function copies(bucket: Awaited<ReturnType<typeof readBucket>>) {
  return bucket.copies('events')
}
