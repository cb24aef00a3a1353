import { request } from 'node:http'
import { jetstream } from '@nats-io/jetstream'
import { connect, headers } from '@nats-io/transport-node'
import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { DlqEntryDetail } from '../dlq/manage.ts'
import { defineEvent } from '../event-definition.ts'
import type { Service } from '../service.ts'
import { captureLogs, createTestService, dlqEntryIdOf } from '../testing/test-service.ts'
import { startAdminServer, type AdminServer } from './server.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'admin api')
const ParcelLost = defineEvent({
  subject: 'Parcel.lost',
  version: 1,
  schema: z.object({ parcelId: z.string() }),
})

const logs = captureLogs()
let service: Service
let admin: AdminServer
let entryId: string
let operationId: string
let eventId: string
beforeAll(async () => {
  service = await createTestService(ns, servers, 'shipping')
  service.on(ParcelLost, { handler: 'refund' }, async () => {
    throw new Error('refunds are switched off')
  })
  await service.start()
  admin = await startAdminServer({
    service,
    apiKeys: [{ name: 'ops', secret: 'correct-secret' }],
    sessionTtlMs: 1_500,
    logger: logs.logger,
    // These tests send wrong keys on purpose, all from one address: sessions.int.spec.ts tests the throttle.
    authFailureLimit: 1_000,
  })
  const op = await service.startOperation({ name: 'parcelReport' })
  operationId = op.id
  eventId = await op.publish(ParcelLost, { parcelId: 'p1' })
  entryId = await dlqEntryIdOf(service, eventId, 'shipping.refund')
})
afterAll(async () => {
  await admin.close()
  await service.stop()
  await ns.cleanup()
})

async function call(
  path: string,
  options: { method?: string; key?: string | null; body?: string } = {},
) {
  const key = options.key === undefined ? 'correct-secret' : options.key
  const response = await fetch(`${admin.url}${path}`, {
    method: options.method ?? 'GET',
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      'content-type': 'application/json',
    },
    body: options.body,
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** A request with its path sent as written: fetch would resolve `..` and `%2e` away first. */
function rawCall(
  path: string,
  method = 'GET',
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      admin.url,
      { path, method, headers: { authorization: 'Bearer correct-secret' } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          }),
        )
      },
    )
    req.on('error', reject).end()
  })
}

const post = (path: string, body?: unknown) =>
  call(path, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) })

/** The entry that is open now: each redrive of the failing handler opens the next cycle. */
async function openEntryId(): Promise<string> {
  return eventually(async () => {
    const { entries } = await service.dlq.list({ eventId, status: 'open' })
    expect(entries).toHaveLength(1)
    return entries[0]!._id
  })
}

const errorWith = (text: string) => ({ error: expect.stringContaining(text) as string })

describe('the admin API', () => {
  it('admits no one without valid credentials, and says nothing else', async () => {
    for (const path of [
      '/api/dlq',
      `/api/dlq/${encodeURIComponent(entryId)}`,
      '/api/openapi.json',
      '/api/consumer-groups',
      '/api/operations',
      `/api/operations/${operationId}/chain`,
      '/api/subjects',
      '/api/session',
      '/api/nothing',
    ]) {
      expect(await call(path, { key: null })).toEqual({
        status: 401,
        body: { error: 'unauthorized' },
      })
      expect(await call(path, { key: 'wrong-secret' })).toEqual({
        status: 401,
        body: { error: 'unauthorized' },
      })
    }
    expect(
      await call(`/api/dlq/${encodeURIComponent(entryId)}/redrive`, {
        method: 'POST',
        key: 'correct-secre',
      }),
    ).toMatchObject({ status: 401 })
    const viaHeader = await fetch(`${admin.url}/api/dlq`, {
      headers: { 'x-api-key': 'correct-secret' },
    })
    expect(viaHeader.status).toBe(200)
  })

  it('answers malformed ids, filters and bodies with 400 and the reason', async () => {
    expect(await call('/api/dlq?status=lost')).toMatchObject({
      status: 400,
      body: { error: 'status must be one of open, redriven, discarded, resolved' },
    })
    expect(await call('/api/dlq?from=yesterday')).toMatchObject({
      status: 400,
      body: { error: 'from is not a date: yesterday' },
    })
    expect(await call('/api/dlq?service=%00')).toMatchObject({
      status: 400,
      body: { error: 'service must not contain NUL' },
    })
    const path = `/api/dlq/${encodeURIComponent(entryId)}`
    expect(await call(`${path}/discard`, { method: 'POST', body: '{}' })).toMatchObject({
      status: 400,
      body: errorWith('needs a reason'),
    })
    expect(
      await call(`${path}/discard`, {
        method: 'POST',
        body: JSON.stringify({ reason: 'bad\u0000byte' }),
      }),
    ).toMatchObject({ status: 400, body: { error: 'reason must not contain NUL' } })
    expect(
      await call(`${path}/resolve`, {
        method: 'POST',
        body: JSON.stringify({ note: 'x'.repeat(10_001) }),
      }),
    ).toMatchObject({ status: 400, body: { error: 'note is longer than 10000 characters' } })
    expect(await call(`${path}/discard`, { method: 'POST', body: '{not json' })).toMatchObject({
      status: 400,
      body: { error: 'the body is not a JSON object' },
    })
    expect((await service.dlq.get(entryId))?.status).toBe('open') // nothing happened
  })

  it('takes limit from 1 to 500, whole numbers only, and before as the page before’s next', async () => {
    for (const limit of ['0', '501', '-1', '1.5', '1e2', '0x10', '', ' 5']) {
      expect(await call(`/api/dlq?limit=${encodeURIComponent(limit)}`)).toEqual({
        status: 400,
        body: { error: 'limit must be a whole number from 1 to 500' },
      })
    }
    expect(await call('/api/dlq?skip=10')).toMatchObject({
      status: 400,
      body: errorWith('unknown query parameter "skip"'),
    })
    expect(await call(`/api/dlq?before=${'x'.repeat(1025)}`)).toEqual({
      status: 400,
      body: { error: 'before is longer than 1024 characters' },
    })
    expect(await call('/api/operations?limit=0')).toMatchObject({ status: 400 })
    expect(await call('/api/dlq?limit=1&before=no-such-entry')).toEqual({
      status: 200,
      body: { entries: [], next: null },
    })
    expect(await call('/api/dlq?limit=500')).toMatchObject({
      status: 200,
      body: { entries: [{ _id: entryId }], next: null },
    })
  })

  it('takes any id but NUL, of 1 to 1024 characters, percent-encoded', async () => {
    expect(await call('/api/dlq/%E0%A4%A')).toEqual({
      status: 400,
      body: { error: 'malformed percent-encoding in the id "%E0%A4%A"' },
    })
    expect(await call('/api/events/%E0%A4%A')).toMatchObject({ status: 400 })
    expect(await call('/api/operations/a%00b')).toEqual({
      status: 400,
      body: { error: 'ids never contain NUL' },
    })
    expect(await call(`/api/dlq/${'x'.repeat(1025)}`)).toEqual({
      status: 400,
      body: { error: 'an id has 1 to 1024 characters, not 1025' },
    })
    // Ids from outside may hold anything else: they are looked up, not refused.
    const odd = 'parcel/ü {1}?#%…'
    expect(await call(`/api/events/${encodeURIComponent(odd)}`)).toEqual({
      status: 404,
      body: { error: `no event ${odd}` },
    })
    expect(await call(`/api/dlq/${encodeURIComponent('...')}`)).toEqual({
      status: 404,
      body: { error: 'no DLQ entry ...' },
    })
    expect(await call(`/api/operations/${'x'.repeat(1024)}/chain`)).toMatchObject({ status: 404 })
  })

  it('answers paths that name no route with 400 or 404 and the reason, and logs them at warn', async () => {
    const path = `/api/dlq/${encodeURIComponent(entryId)}`
    expect(await call(`${path}/redrive/now`, { method: 'POST' })).toEqual({
      status: 404,
      body: { error: `no route POST ${path}/redrive/now: too many path segments` },
    })
    expect(await call(`${path}/reopen`, { method: 'POST' })).toMatchObject({
      status: 404,
      body: errorWith('the actions are POST redrive, discard, resolve'),
    })
    expect(await call(path, { method: 'DELETE' })).toMatchObject({ status: 404 })
    expect(await call('/api/consumer-groups/extra')).toMatchObject({ status: 404 })
    expect(await call(`/api/operations/${operationId}/events`)).toMatchObject({ status: 404 })
    expect(await call('/api/nothing')).toMatchObject({ status: 404 })
    // Dot segments would be resolved into another route (`/api/dlq/redrive`): refused as sent.
    for (const dotted of [`${path}/%2e%2e/redrive`, `${path}/../redrive`, `${path}\\..`]) {
      expect(await rawCall(dotted, 'POST')).toMatchObject({
        status: 400,
        body: errorWith('. or .. segment'),
      })
    }
    expect(await call('/api/dlq//redrive', { method: 'POST' })).toMatchObject({
      status: 400,
      body: errorWith('empty segment'),
    })
    expect(await rawCall('//api/dlq')).toMatchObject({ status: 400 })
    expect((await service.dlq.get(entryId))?.status).toBe('open')
    expect(logs.lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: 'admin API request refused',
        method: 'POST',
        path: `${path}/redrive/now`,
        reason: expect.stringContaining('too many path segments') as string,
      }),
    )
  })

  it('refuses unknown filter fields in the query and the body, naming them', async () => {
    expect(await call('/api/dlq?consumergroup=shipping.refund')).toEqual({
      status: 400,
      body: {
        error:
          'unknown query parameter "consumergroup": only service, consumerGroup, subject, status, eventId, from, to, limit, before',
      },
    })
    expect(await call('/api/dlq?status=open&status=resolved')).toEqual({
      status: 400,
      body: { error: '"status" is given twice' },
    })
    expect(await call('/api/dlq?__proto__=x')).toMatchObject({
      status: 400,
      body: errorWith('unknown query parameter "__proto__"'),
    })
    expect(await call('/api/operations?serch=parcel')).toMatchObject({
      status: 400,
      body: errorWith('unknown query parameter "serch"'),
    })
    expect(
      await post('/api/dlq/redrive', { consumerGroup: 'shipping.refund', servce: 'shipping' }),
    ).toEqual({
      status: 400,
      body: {
        error:
          'unknown field "servce": only service, consumerGroup, subject, status, eventId, from, to, all',
      },
    })
    expect(await post('/api/dlq/redrive', { eventId, limit: 1 })).toMatchObject({
      status: 400,
      body: errorWith('unknown field "limit"'),
    })
    expect(await post('/api/dlq/redrive', { eventId: 42 })).toMatchObject({
      status: 400,
      body: { error: 'eventId must be a string' },
    })
    expect((await service.dlq.get(entryId))?.status).toBe('open') // nothing redriven
  })

  it('refuses a bulk redrive that would select every entry, unless asked for all', async () => {
    for (const body of [
      {},
      { status: 'open' },
      { service: '' },
      { all: false },
      { all: 'true' },
      { all: true, consumerGroup: 'shipping.refund' },
      { status: 'resolved', consumerGroup: 'shipping.refund' },
    ]) {
      expect(await post('/api/dlq/redrive', body)).toMatchObject({ status: 400 })
    }
    expect(await post('/api/dlq/redrive')).toMatchObject({
      status: 400,
      body: errorWith('send { "all": true } to redrive every open entry'),
    })
    expect(await post('/api/dlq/redrive', { all: 1 })).toEqual({
      status: 400,
      body: { error: 'all must be true or false' },
    })
    expect(await service.dlq.list({ status: 'redriven' })).toEqual({ entries: [], next: null })
    expect((await service.dlq.get(entryId))?.status).toBe('open')
  })

  it('refuses a note that is not a string or a field it does not take; the entry stays open', async () => {
    const path = `/api/dlq/${encodeURIComponent(entryId)}`
    expect(await post(`${path}/resolve`, { note: 42 })).toEqual({
      status: 400,
      body: { error: 'note must be a string' },
    })
    expect(await post(`${path}/resolve`, { note: ['fixed'] })).toMatchObject({ status: 400 })
    expect(await post(`${path}/resolve`, { notes: 'fixed' })).toMatchObject({
      status: 400,
      body: errorWith('unknown field for resolve "notes": only note'),
    })
    expect(await post(`${path}/discard`, { reason: 7 })).toMatchObject({ status: 400 })
    expect(await post(`${path}/redrive`, { by: 'root' })).toMatchObject({
      status: 400,
      body: errorWith('unknown field for redrive "by": none is taken'),
    })
    expect((await service.dlq.get(entryId))?.status).toBe('open')
  })

  it('lists, shows and redrives DLQ entries; a second redrive is refused', async () => {
    const list = await call('/api/dlq?consumerGroup=shipping.refund&status=open')
    expect(list).toMatchObject({ status: 200, body: { entries: [{ _id: entryId }], next: null } })
    expect(await call(`/api/dlq?eventId=${encodeURIComponent(eventId)}`)).toMatchObject({
      body: { entries: [{ _id: entryId }], next: null },
    })
    expect(await call('/api/dlq?eventId=no-such-event')).toMatchObject({ body: { entries: [] } })
    const path = `/api/dlq/${encodeURIComponent(entryId)}`
    const shown = await call(path)
    expect(shown.body).toMatchObject({
      _id: expect.stringMatching(/^[0-9a-f]{32}$/) as string,
      eventId,
      operationId,
      payload: '{"parcelId":"p1"}',
      payloadBase64: Buffer.from('{"parcelId":"p1"}').toString('base64'),
      trusted: true,
      reason: expect.stringContaining('refunds are switched off') as string,
      cycles: [{ id: entryId, status: 'open' }],
    })
    expect(shown.body.headers).toContainEqual({ name: 'Event-Id', value: eventId })
    expect(shown.body.headers).toContainEqual({ name: 'Operation-Id', value: operationId })
    expect(await call('/api/dlq/no-such-entry')).toMatchObject({ status: 404 })

    expect(await call(`${path}/redrive`, { method: 'POST' })).toMatchObject({
      status: 200,
      body: { entry: { status: 'redriven', history: [{ action: 'redrive', by: 'ops' }] } },
    })
    expect(await call(`${path}/redrive`, { method: 'POST' })).toMatchObject({
      status: 409,
      body: { error: expect.stringContaining('the entry is redriven') as string },
    })

    // The handler still fails: the redrive opens the next cycle, which links back.
    const next = await openEntryId()
    const nextShown = await call(`/api/dlq/${next}`)
    expect(nextShown.body).toMatchObject({
      redriveOf: entryId,
      trusted: true,
      cycles: [
        { id: entryId, status: 'redriven', action: { action: 'redrive', by: 'ops' } },
        { id: next, status: 'open' },
      ],
    })
    expect((nextShown.body as unknown as DlqEntryDetail).cycles[1]).not.toHaveProperty('action')
  })

  it('redrives every open entry when asked for all', async () => {
    const open = await openEntryId()
    expect(await post('/api/dlq/redrive', { all: true })).toEqual({
      status: 200,
      body: { total: 1, redriven: [open], refused: [] },
    })
    // The next cycle lands again (the handler still fails); later tests count on one open entry.
    expect(await openEntryId()).not.toBe(open)
  })

  it('serves operations, events, consumer groups and its OpenAPI document', async () => {
    expect(await call(`/api/operations/${operationId}`)).toMatchObject({
      status: 200,
      body: { operation: { name: 'parcelReport' }, events: [{ _id: eventId }] },
    })
    expect(await call(`/api/events/${eventId}`)).toMatchObject({
      status: 200,
      body: { subject: 'Parcel.lost' },
    })
    expect((await call('/api/operations?limit=5')).body.operations).toHaveLength(1)
    expect((await call('/api/consumer-groups')).body.consumerGroups).toEqual([
      expect.objectContaining({ durable: 'shipping_refund' }),
    ])
    expect(await call('/api/openapi.json')).toMatchObject({
      status: 200,
      body: { openapi: '3.1.0' },
    })
  })

  it('lists operations with their counts, searchable, and draws their chains', async () => {
    for (const search of ['parcelReport', operationId]) {
      expect(await call(`/api/operations?search=${search}&limit=10`)).toMatchObject({
        status: 200,
        body: {
          next: null,
          operations: [{ id: operationId, name: 'parcelReport', status: 'started' }],
        },
      })
    }
    // Exact, not a pattern: a part of the name, another case or a regex finds nothing.
    for (const search of ['PARCEL', 'parcel', '.*', 'nothing-like-it']) {
      expect((await call(`/api/operations?search=${encodeURIComponent(search)}`)).body).toEqual({
        next: null,
        operations: [],
      })
    }
    expect((await call('/api/operations?status=lost')).status).toBe(400)
    await eventually(async () =>
      expect(await call(`/api/operations/${operationId}/chain`)).toMatchObject({
        status: 200,
        body: {
          id: operationId,
          events: [
            {
              id: eventId,
              subject: 'Parcel.lost',
              parentId: operationId,
              data: { parcelId: 'p1' },
              failures: [
                {
                  consumerGroup: 'shipping.refund',
                  inDeadLetterQueue: true,
                  // Its first entry was redriven; the latest is open.
                  deadLetterStatus: 'open',
                },
              ],
            },
          ],
        },
      }),
    )
  })

  it('pages operations newest first by keyset: each page starts after the last one', async () => {
    const names = ['pageA', 'pageB', 'pageC', 'pageD', 'pageE']
    for (const name of names) await (await service.startOperation({ name })).complete()
    const seen: string[] = []
    const started: number[] = []
    let before: string | null = null
    do {
      const query: string = before ? `&before=${encodeURIComponent(before)}` : ''
      const body = (await call(`/api/operations?limit=2${query}`)).body as {
        operations: { name: string; startedAt: string }[]
        next: string | null
      }
      expect(body.operations.length).toBeLessThanOrEqual(2)
      for (const o of body.operations) {
        seen.push(o.name)
        started.push(Date.parse(o.startedAt))
      }
      before = body.next
    } while (before)
    // Newest first (two in one millisecond may come either way), each once; earlier tests' after.
    expect(seen.slice(0, names.length).sort()).toEqual(names)
    expect(started).toEqual([...started].sort((a, b) => b - a))
    expect(new Set(seen).size).toBe(seen.length)
    expect((await call('/api/operations?before=no-such-operation')).body).toEqual({
      operations: [],
      next: null,
    })
    expect((await call('/api/operations?skip=2')).status).toBe(400)
  })

  it('maps subjects to publishers and consumer groups, and flags groups with DLQ entries', async () => {
    expect((await call('/api/subjects')).body.subjects).toEqual([
      {
        subject: 'Parcel.lost',
        publishers: ['shipping'],
        consumers: ['shipping.refund'],
        counts: { lastHour: 1, lastDay: 1, total: 1 },
        failures: 1,
        failureRate: 1,
        dlqOpen: expect.any(Number) as number,
      },
    ])
    expect((await call('/api/consumer-groups')).body.consumerGroups).toEqual([
      expect.objectContaining({
        durable: 'shipping_refund',
        consumerGroup: 'shipping.refund',
        stuck: false,
      }),
    ])
  })

  it('signs a browser in with a key: an HttpOnly session cookie that expires, and signs out', async () => {
    const refused = await fetch(`${admin.url}/api/session`, {
      method: 'POST',
      body: JSON.stringify({ apiKey: 'wrong-secret' }),
    })
    expect([refused.status, refused.headers.get('set-cookie')]).toEqual([401, null])

    const signedIn = await fetch(`${admin.url}/api/session`, {
      method: 'POST',
      body: JSON.stringify({ apiKey: 'correct-secret' }),
    })
    expect(signedIn.status).toBe(200)
    const setCookie = signedIn.headers.get('set-cookie')!
    expect(setCookie).toMatch(
      /^ed_admin_session=[^;]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=1$/,
    )
    const cookie = setCookie.split(';')[0]!
    const withCookie = (path: string, method = 'GET') =>
      fetch(`${admin.url}${path}`, { method, headers: { cookie } })

    expect((await withCookie('/api/dlq')).status).toBe(200)
    expect(await (await withCookie('/api/session')).json()).toMatchObject({
      name: 'ops',
      role: 'operate',
    })
    // A forged cookie (another name, same MAC) is refused.
    const forged = cookie.replace(/=([^.]+)\./, `=${Buffer.from('root').toString('base64url')}.`)
    expect((await fetch(`${admin.url}/api/dlq`, { headers: { cookie: forged } })).status).toBe(401)

    const signedOut = await withCookie('/api/session', 'DELETE')
    expect(signedOut.headers.get('set-cookie')).toMatch(/^ed_admin_session=; .*Max-Age=0$/)
    // Signed out on the server: the cookie kept is dead at once (sessions.int.spec.ts has more).
    expect((await withCookie('/api/dlq')).status).toBe(401)
  })

  it('refuses to redrive a message the framework did not sign, and shows its bytes as they came', async () => {
    const nc = await connect({ servers: servers.natsUrl })
    const oddId = 'parcel/ü 2?#%'
    try {
      const h = headers()
      h.set('Event-Id', oddId)
      h.set('X-Note', 'from outside')
      await jetstream(nc).publish(
        `${ns.subjectPrefix}.Parcel.lost`,
        new Uint8Array([0xff, 0xfe, 0x00]),
        { msgID: `unsigned-${ns.id}`, headers: h },
      )
    } finally {
      await nc.close()
    }
    const unsigned = await dlqEntryIdOf(service, oddId, 'shipping.refund')
    expect(await call(`/api/dlq?eventId=${encodeURIComponent(oddId)}`)).toMatchObject({
      status: 200,
      body: { entries: [{ _id: unsigned, trusted: false, payload: null }], next: null },
    })
    const shown = await call(`/api/dlq/${unsigned}`)
    expect(shown.body).toMatchObject({
      trusted: false,
      payload: null,
      payloadBase64: '//4A',
      cycles: [{ id: unsigned, status: 'open' }],
    })
    expect(shown.body.headers).toContainEqual({ name: 'X-Note', value: 'from outside' })
    expect(await post(`/api/dlq/${unsigned}/redrive`)).toMatchObject({
      status: 409,
      body: errorWith('not signed by the framework'),
    })
    expect(await post(`/api/dlq/${unsigned}/discard`, { reason: 'not ours' })).toMatchObject({
      status: 200,
      body: { entry: { status: 'discarded' } },
    })
  })
})

describe('the admin API when MongoDB fails', () => {
  it('answers 500 and logs the cause with the method and path', async () => {
    const mongo = await new MongoClient(servers.mongodbUrl).connect()
    const broken = await createTestService(ns, servers, 'depot', {
      scope: 'broken',
      mongodb: mongo,
    })
    const brokenLogs = captureLogs()
    const brokenAdmin = await startAdminServer({
      service: broken,
      apiKeys: [{ name: 'ops', secret: 'correct-secret' }],
      logger: brokenLogs.logger,
    })
    try {
      await mongo.close() // the service's own client: every query now fails
      const response = await fetch(`${brokenAdmin.url}/api/dlq?status=open`, {
        headers: { authorization: 'Bearer correct-secret' },
      })
      expect([response.status, await response.json()]).toEqual([
        500,
        { error: 'internal error; see the service log' },
      ])
      expect(brokenLogs.lines).toEqual([
        expect.objectContaining({
          level: 50,
          msg: 'admin API request failed',
          method: 'GET',
          path: '/api/dlq',
          err: expect.objectContaining({ type: 'MongoNotConnectedError' }) as unknown,
        }),
      ])
    } finally {
      await brokenAdmin.close()
      await broken.stop()
    }
  })
})
