import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import type { AdminSource } from '../open-event-store.ts'
import type { Service } from '../service.ts'
import { eventStore } from '../store/event-store.ts'
import { captureLogs, createTestService, dlqEntryIdOf } from '../testing/test-service.ts'
import { startAdminServer, type AdminServer } from './server.ts'

// Live updates over SSE against the real servers: notices reach every stream, a shared poll
// reads the store once per interval whatever the number of streams, and the routes' auth holds.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'admin live')
const ParcelLost = defineEvent({
  subject: 'Parcel.lost',
  version: 1,
  schema: z.object({ parcelId: z.string() }),
})
const ParcelFound = defineEvent({
  subject: 'Parcel.found',
  version: 1,
  schema: z.object({ parcelId: z.string() }),
})

const logs = captureLogs()
const intervalMs = 300
let service: Service
let admin: AdminServer
let monitored: MongoClient
/** The commands the admin server's own MongoDB client sent. */
const commands: { name: string; collection: unknown }[] = []
const keys = [
  { name: 'ops', secret: 'operate-secret' },
  { name: 'viewer', secret: 'read-secret', role: 'read' as const },
]

beforeAll(async () => {
  service = await createTestService(ns, servers, 'shipping')
  service.on(ParcelLost, { handler: 'refund' }, async () => {
    throw new Error('refunds are switched off')
  })
  await service.start()
  monitored = await new MongoClient(servers.mongodbUrl, { monitorCommands: true }).connect()
  monitored.on('commandStarted', (e) =>
    commands.push({ name: e.commandName, collection: e.command[e.commandName] }),
  )
  const source: AdminSource = {
    ...service,
    store: eventStore(monitored.db(service.store.db.databaseName)),
  }
  admin = await startAdminServer({
    service: source,
    apiKeys: keys,
    logger: logs.logger,
    live: { intervalMs, maxOperations: 3 },
  })
})
afterAll(async () => {
  await admin.close()
  await monitored.close()
  await service.stop()
  await ns.cleanup()
})

/** An SSE client: its events as they come, and how to stop listening. */
async function listen(query: string, key = 'read-secret', cookie?: string) {
  const abort = new AbortController()
  const response = await fetch(`${admin.url}/api/live?${query}`, {
    headers: cookie ? { cookie } : { authorization: `Bearer ${key}` },
    signal: abort.signal,
  })
  const events: { event: string; data: string }[] = []
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toBe('text/event-stream')
  void (async () => {
    const decoder = new TextDecoder()
    let buffered = ''
    const reader = response.body!.getReader()
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      buffered += decoder.decode(chunk.value, { stream: true })
      const blocks = buffered.split('\n\n')
      buffered = blocks.pop()!
      for (const block of blocks) {
        const fields = Object.fromEntries(
          block
            .split('\n')
            .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
        )
        if (fields.event) events.push({ event: fields.event, data: fields.data ?? '' })
      }
    }
  })().catch(() => undefined)
  const client = {
    events,
    changes: () => events.filter((e) => e.event === 'change').map((e) => e.data),
    ready: () => eventually(async () => expect(events.map((e) => e.event)).toContain('ready')),
    close: () => abort.abort(),
  }
  return client
}

describe('live updates (GET /api/live)', () => {
  it('tells both streams watching an operation when its chain grows', async () => {
    const op = await service.startOperation({ name: 'parcelReport' })
    await op.publish(ParcelFound, { parcelId: 'p0' })
    const first = await listen(`operation=${encodeURIComponent(op.id)}`)
    const second = await listen(`operation=${encodeURIComponent(op.id)}`, 'operate-secret')
    await Promise.all([first.ready(), second.ready()])
    expect(first.changes()).toEqual([])

    await op.publish(ParcelFound, { parcelId: 'p1' })
    for (const client of [first, second])
      await eventually(async () => expect(client.changes()).toContain(`operation:${op.id}`))
    first.close()
    second.close()
  })

  it('tells a DLQ stream when an entry is created and when it is acted on', async () => {
    const dlq = await listen('dlq=true')
    await dlq.ready()
    const op = await service.startOperation({ name: 'parcelReport' })
    const eventId = await op.publish(ParcelLost, { parcelId: 'p2' })
    const entryId = await dlqEntryIdOf(service, eventId, 'shipping.refund')
    await eventually(async () => expect(dlq.changes()).toContain('dlq'))
    const before = dlq.changes().length

    const resolved = await fetch(`${admin.url}/api/dlq/${encodeURIComponent(entryId)}/resolve`, {
      method: 'POST',
      headers: { authorization: 'Bearer operate-secret', 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'refunded by hand' }),
    })
    expect(resolved.status).toBe(200)
    await eventually(async () => expect(dlq.changes().length).toBeGreaterThan(before))
    expect(dlq.changes().at(-1)).toBe('dlq')
    dlq.close()
  })

  it('reads the store once per interval, whatever the number of streams', async () => {
    const op = await service.startOperation({ name: 'parcelReport' })
    const watch = `operation=${encodeURIComponent(op.id)}&dlq=true`
    const read = (n: number) => commands.slice(n).filter((c) => c.name !== 'endSessions')
    // One stream: how many commands a poll sends, counted by its reads of `operations`.
    const one = await listen(watch)
    await one.ready()
    let from = commands.length
    await eventually(async () =>
      expect(read(from).filter((c) => c.collection === 'operations').length).toBeGreaterThanOrEqual(
        3,
      ),
    )
    let polls = read(from).filter((c) => c.collection === 'operations').length
    const perPoll = read(from).length / polls
    expect(perPoll).toBe(Math.round(perPoll))

    // Eight streams on the same topics: the same commands per poll, not eight times as many.
    const many = [one, ...(await Promise.all(Array.from({ length: 7 }, () => listen(watch))))]
    await Promise.all(many.map((c) => c.ready()))
    from = commands.length
    const started = Date.now()
    await eventually(async () =>
      expect(read(from).filter((c) => c.collection === 'operations').length).toBeGreaterThanOrEqual(
        4,
      ),
    )
    const window = read(from)
    polls = window.filter((c) => c.collection === 'operations').length
    const elapsed = Date.now() - started
    // Whole polls only (a poll may be under way at either end of the window).
    expect(Math.abs(window.length - polls * perPoll)).toBeLessThanOrEqual(perPoll)
    expect(polls).toBeLessThanOrEqual(Math.ceil(elapsed / intervalMs) + 1)
    for (const client of many) client.close()

    // No stream, no poll.
    await eventually(async () => {
      const idle = commands.length
      await new Promise((resolve) => setTimeout(resolve, intervalMs * 3))
      expect(commands.length).toBe(idle)
    })
  })

  it('is behind the same credentials as every route: none refused, read-only allowed', async () => {
    const none = await fetch(`${admin.url}/api/live?dlq=true`)
    expect(none.status).toBe(401)
    expect(await none.json()).toEqual({ error: 'unauthorized' })
    const wrong = await fetch(`${admin.url}/api/live?dlq=true`, {
      headers: { authorization: 'Bearer wrong-secret' },
    })
    expect(wrong.status).toBe(401)
    const reader = await listen('dlq=true', 'read-secret')
    await reader.ready()
    reader.close()
  })

  it("ends a session's stream when it signs out", async () => {
    const signIn = await fetch(`${admin.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: 'read-secret' }),
    })
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!
    const stream = await listen('dlq=true', '', cookie)
    await stream.ready()
    const out = await fetch(`${admin.url}/api/session`, { method: 'DELETE', headers: { cookie } })
    expect(out.status).toBe(200)
    await eventually(async () =>
      expect(stream.events.at(-1)).toEqual({ event: 'end', data: 'signed out' }),
    )
    expect((await fetch(`${admin.url}/api/live?dlq=true`, { headers: { cookie } })).status).toBe(
      401,
    )
  })

  it('refuses a hostile or missing topic with 400, and too many operations with 503', async () => {
    const ask = async (query: string) => {
      const response = await fetch(`${admin.url}/api/live?${query}`, {
        headers: { authorization: 'Bearer read-secret' },
      })
      return { status: response.status, body: (await response.json()) as { error: string } }
    }
    expect(await ask('operation=a%00b')).toEqual({
      status: 400,
      body: { error: 'ids never contain NUL' },
    })
    expect(await ask(`operation=${'x'.repeat(1025)}`)).toEqual({
      status: 400,
      body: { error: 'an id has 1 to 1024 characters, not 1025' },
    })
    expect((await ask('operation=')).status).toBe(400)
    expect((await ask('')).status).toBe(400)
    expect((await ask('dlq=yes')).status).toBe(400)
    expect((await ask('operation=a&operation=b')).status).toBe(400)
    expect((await ask('dlq=true&tab=1')).status).toBe(400)

    const watching = await Promise.all(['a', 'b', 'c'].map((id) => listen(`operation=${id}`)))
    const over = await ask('operation=d')
    expect(over.status).toBe(503)
    expect(over.body.error).toMatch(/too many operations watched live/)
    // One already watched is no new cost.
    const again = await listen('operation=a')
    for (const client of [...watching, again]) client.close()
  })
})
