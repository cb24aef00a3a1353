import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import fc from 'fast-check'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import { openEventStore, type EventStoreTools } from '../open-event-store.ts'
import type { EventRecord } from '../store/event-store.ts'
import { captureLogs, createTestService, databaseName } from '../testing/test-service.ts'
import type { ActorNames } from './actor-names.ts'
import { startAdminServer, type AdminServer } from './server.ts'
import { subjectSearchEvents } from './views.ts'

// The operations page through the real API: search by an operation's id, name or actor, an
// event's id or a subject, and the actors' display names the service provides.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'admin operations')
const ParcelSent = defineEvent({
  subject: 'Parcel.sent',
  version: 1,
  schema: z.object({ parcelId: z.string() }),
})
const ParcelLost = defineEvent({
  subject: 'Parcel.lost',
  version: 1,
  schema: z.object({ parcelId: z.string() }),
})

const key = 'ops-secret'
const logs = captureLogs()
/** A `find` as the driver sent it. */
type FindCommand = {
  find?: string
  filter: { subject?: string; _id?: string | { $in?: string[] } }
  sort?: Map<string, number>
  limit?: number
}
/** The commands the admin server's MongoDB client sent. */
const commands: FindCommand[] = []
const asked: string[][] = []
let monitored: MongoClient
let tools: EventStoreTools
const admins: AdminServer[] = []
let admin: AdminServer
const ops = { ada: '', bob: '', audit: '' }
const events = { sentByAda: '', sentByBob: '', lostByBob: '', pending: '' }

/** Names of two users; anything else (a timer) has none. */
const actorNames: ActorNames = async (actors) => {
  asked.push(actors)
  const known: Record<string, string> = { 'user-ada': 'Ada Lovelace', 'user-bob': 'Bob Babbage' }
  return new Map(actors.flatMap((a) => (known[a] ? [[a, known[a]] as const] : [])))
}

async function adminWith(options: Partial<Parameters<typeof startAdminServer>[0]>) {
  const server = await startAdminServer({
    service: tools,
    apiKeys: [{ name: 'ops', secret: key }],
    logger: logs.logger,
    ...options,
  })
  admins.push(server)
  return server
}

beforeAll(async () => {
  const service = await createTestService(ns, servers, 'shipping')
  await service.start()
  const ada = await service.startOperation({ name: 'parcelSend', actor: 'user-ada' })
  events.sentByAda = await ada.publish(ParcelSent, { parcelId: 'p1' })
  await ada.complete()
  const bob = await service.startOperation({ name: 'parcelSend', actor: 'user-bob' })
  events.sentByBob = await bob.publish(ParcelSent, { parcelId: 'p2' })
  events.lostByBob = await bob.publish(ParcelLost, { parcelId: 'p2' })
  await bob.complete()
  const audit = await service.startOperation({ name: 'parcelAudit', actor: 'timer:audit' })
  Object.assign(ops, { ada: ada.id, bob: bob.id, audit: audit.id })
  await eventually(async () =>
    expect(await service.store.events.countDocuments({ publishedAt: { $exists: true } })).toBe(3),
  )
  await service.stop()
  monitored = await new MongoClient(servers.mongodbUrl, { monitorCommands: true }).connect()
  monitored.on('commandStarted', (e) => commands.push(e.command as FindCommand))
  tools = await openEventStore({
    mongodb: monitored,
    database: databaseName(ns),
    nats: servers.natsUrl,
    stream: service.stream,
  })
  // An event of the audit that its relay has not published yet: no service runs from here on.
  const published = (await tools.store.events.findOne({ _id: events.sentByAda }))!
  const unpublished: EventRecord = { ...published, _id: `${audit.id}-pending-event` }
  delete unpublished.publishedAt
  events.pending = unpublished._id
  await tools.store.outbox.insertOne({ ...unpublished, operationId: audit.id })
  admin = await adminWith({ actorNames })
})
afterAll(async () => {
  await Promise.all(admins.map((a) => a.close()))
  await tools?.close()
  await monitored?.close()
  await ns.cleanup()
})

type Page = {
  operations: { id: string; actor: unknown; actorName?: string }[]
  next: string | null
}

async function get(server: AdminServer, path: string) {
  const response = await fetch(`${server.url}${path}`, {
    headers: { authorization: `Bearer ${key}` },
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

async function search(text: string, extra = ''): Promise<string[]> {
  const { status, body } = await get(
    admin,
    `/api/operations?search=${encodeURIComponent(text)}${extra}`,
  )
  expect(status).toBe(200)
  return (body as Page).operations.map((o) => o.id)
}

describe('searching operations', () => {
  it('finds an operation by its exact id, name or actor, as before', async () => {
    expect(await search(ops.ada)).toEqual([ops.ada])
    expect(await search('parcelSend')).toEqual([ops.bob, ops.ada])
    expect(await search('user-bob')).toEqual([ops.bob])
  })

  it("finds an event's operation by the event's id, published or still in the outbox", async () => {
    expect(await search(events.sentByAda)).toEqual([ops.ada])
    expect(await search(events.lostByBob)).toEqual([ops.bob])
    expect(await search(events.pending)).toEqual([ops.audit])
  })

  it('finds the operations of a subject, newest first, exactly and a page at a time', async () => {
    expect(await search('Parcel.sent')).toEqual([ops.bob, ops.ada])
    expect(await search('Parcel.lost')).toEqual([ops.bob])
    for (const text of ['Parcel.Sent', 'parcel.sent', 'Parcel', 'Parcel.s', 'Parcel\\.sent'])
      expect(await search(text)).toEqual([])
    expect(await search('Parcel.sent', '&status=started')).toEqual([])
    const first = (await get(admin, '/api/operations?search=Parcel.sent&limit=1')).body as Page
    expect(first).toMatchObject({ operations: [{ id: ops.bob }], next: ops.bob })
    expect(await search('Parcel.sent', `&limit=1&before=${ops.bob}`)).toEqual([ops.ada])
  })

  it("reads by equality: the subject's latest events (bounded), their operations by _id, an event by _id", async () => {
    commands.length = 0
    await search('Parcel.sent')
    const finds = commands.filter((c) => c.find !== undefined)
    const subjectRead = finds.find((c) => c.find === 'events' && c.filter.subject)
    expect(subjectRead).toMatchObject({
      filter: { subject: 'Parcel.sent' },
      limit: subjectSearchEvents,
    })
    expect(Object.fromEntries(subjectRead!.sort as Map<string, number>)).toEqual({ createdAt: -1 })
    expect(finds.filter((c) => c.find === 'events' && c.filter._id)).toHaveLength(1)
    expect(finds.filter((c) => c.find === 'outbox' && c.filter._id)).toHaveLength(1)
    const inIds = (c: FindCommand) => (typeof c.filter._id === 'object' ? c.filter._id.$in : [])
    expect(finds.some((c) => c.find === 'operations' && inIds(c)?.length === 2)).toBe(true)
    expect(JSON.stringify(commands)).not.toContain('$regex')
    // A search that cannot be a subject does not read the events by subject.
    commands.length = 0
    await search('parcelSend')
    expect(commands.some((c) => c.find === 'events' && c.filter.subject)).toBe(false)
  })

  it(`finds by a subject the operations of its latest ${subjectSearchEvents} events only`, async () => {
    const store = tools.store
    const template = (await store.events.findOne({ _id: events.sentByAda }))!
    const at = (ms: number) => new Date(Date.now() + 60_000 + ms)
    const event = (id: string, operationId: string, createdAt: Date): EventRecord => ({
      ...template,
      _id: id,
      subject: 'Parcel.found',
      operationId,
      parentId: operationId,
      createdAt,
    })
    await store.operations.insertMany(
      ['found-old', 'found-busy'].map((id, n) => ({
        _id: id,
        name: 'parcelFind',
        input: {},
        actor: null,
        status: 'completed' as const,
        service: 'shipping',
        startedAt: at(n),
      })),
    )
    await store.events.insertMany([
      event('found-old-event', 'found-old', at(0)),
      ...Array.from({ length: subjectSearchEvents }, (_, n) =>
        event(`found-busy-${n}`, 'found-busy', at(10 + n)),
      ),
    ])
    expect(await search('Parcel.found')).toEqual(['found-busy'])
    // Still found by its id, or by its event's.
    expect(await search('found-old-event')).toEqual(['found-old'])
  })

  it('answers any search with a page or a 400 that says why, never a failure', async () => {
    const known = new Set([...Object.values(ops), ...Object.values(events)])
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 220 }),
          fc.constantFrom('$where', '{"$gt":""}', '.*', 'Parcel.sent\u0000', 'A.b', '%', '\\'),
        ),
        async (text) => {
          // As a browser would send it: lone surrogates become U+FFFD.
          const sent = Buffer.from(text, 'utf8').toString('utf8')
          const { status, body } = await get(
            admin,
            `/api/operations?search=${encodeURIComponent(sent)}`,
          )
          if (sent.length > 200 || sent.includes('\u0000')) {
            expect(status).toBe(400)
            expect(body.error).toMatch(
              /^search (is longer than 200 characters|must not contain NUL)$/,
            )
            return
          }
          expect(status).toBe(200)
          const found = (body as Page).operations
          if (!known.has(sent) && !/^(Parcel\.|parcel|user-|timer:)/.test(sent) && sent !== '')
            expect(found).toEqual([])
        },
      ),
      { numRuns: 60 },
    )
  })
})

describe("actors' display names", () => {
  it('gives each row and the chain the name the service has, asking once per page for actors not known yet', async () => {
    // A server of its own: the searches above filled the other's names.
    const admin = await adminWith({ actorNames })
    asked.length = 0
    const named = (await get(admin, '/api/operations?search=parcelSend')).body as Page
    expect(named.operations).toEqual([
      expect.objectContaining({ id: ops.bob, actor: 'user-bob', actorName: 'Bob Babbage' }),
      expect.objectContaining({ id: ops.ada, actor: 'user-ada', actorName: 'Ada Lovelace' }),
    ])
    expect(asked.map((a) => [...a].sort())).toEqual([['user-ada', 'user-bob']])
    const all = (await get(admin, '/api/operations')).body as Page
    const audit = all.operations.find((o) => o.id === ops.audit)
    expect(audit).toMatchObject({ actor: 'timer:audit' })
    expect(audit).not.toHaveProperty('actorName')
    // Only the actor not known yet was asked for.
    expect(asked.slice(1)).toEqual([['timer:audit']])
    expect((await get(admin, `/api/operations/${ops.ada}/chain`)).body).toMatchObject({
      actor: 'user-ada',
      actorName: 'Ada Lovelace',
    })
    expect(asked).toHaveLength(2)
  })

  it('shows actors as recorded when the lookup throws or is slow, and logs why', async () => {
    const failing = await adminWith({
      actorNames: async () => {
        throw new Error('users service is down')
      },
    })
    const page = await get(failing, '/api/operations?search=parcelSend')
    expect(page.status).toBe(200)
    expect((page.body as Page).operations.map((o) => o.actorName)).toEqual([undefined, undefined])
    expect((await get(failing, `/api/operations/${ops.ada}/chain`)).body).not.toHaveProperty(
      'actorName',
    )
    expect(logs.messages()).toContain('actor names: the lookup failed; actors show as recorded')

    let answer: (names: Map<string, string>) => void = () => undefined
    const slow = await adminWith({
      actorNames: () => new Promise((resolve) => (answer = resolve)),
      actorNameOptions: { timeoutMs: 50 },
    })
    const waiting = await get(slow, `/api/operations/${ops.ada}/chain`)
    expect(waiting).toMatchObject({ status: 200, body: { id: ops.ada, actor: 'user-ada' } })
    expect(waiting.body).not.toHaveProperty('actorName')
    expect(logs.messages()).toContain(
      'actor names: the lookup is slow; this page shows actors as recorded',
    )
    answer(new Map([['user-ada', 'Ada']]))
    await eventually(async () =>
      expect((await get(slow, `/api/operations/${ops.ada}/chain`)).body).toMatchObject({
        actorName: 'Ada',
      }),
    )
  })
})
