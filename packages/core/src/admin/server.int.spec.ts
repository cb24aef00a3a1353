import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import type { Service } from '../service.ts'
import { createTestService, dlqEntryIdOf } from '../testing/test-service.ts'
import { startAdminServer, type AdminServer } from './server.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'admin api')
const ParcelLost = defineEvent({
  subject: 'Parcel.lost',
  version: 1,
  schema: z.object({ parcelId: z.string() }),
})

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
    expect(await call('/api/dlq/bad%20id%20%7B%7D')).toMatchObject({
      status: 400,
      body: { error: expect.stringContaining('malformed id') as string },
    })
    expect(await call('/api/dlq?status=lost')).toMatchObject({
      status: 400,
      body: { error: 'status must be one of open, redriven, discarded, resolved' },
    })
    expect(await call('/api/dlq?from=yesterday')).toMatchObject({
      status: 400,
      body: { error: 'from is not a date: yesterday' },
    })
    expect(await call('/api/dlq?limit=-1')).toMatchObject({ status: 400 })
    const path = `/api/dlq/${encodeURIComponent(entryId)}`
    expect(await call(`${path}/discard`, { method: 'POST', body: '{}' })).toMatchObject({
      status: 400,
      body: { error: expect.stringContaining('needs a reason') as string },
    })
    expect(await call(`${path}/discard`, { method: 'POST', body: '{not json' })).toMatchObject({
      status: 400,
      body: { error: 'the body is not a JSON object' },
    })
    expect((await service.dlq.get(entryId))?.status).toBe('open') // nothing happened
  })

  it('lists, shows and redrives DLQ entries; a second redrive is refused', async () => {
    const list = await call('/api/dlq?consumerGroup=shipping.refund&status=open')
    expect(list).toMatchObject({ status: 200, body: { total: 1 } })
    const path = `/api/dlq/${encodeURIComponent(entryId)}`
    const shown = await call(path)
    expect(shown.body).toMatchObject({
      eventId,
      operationId,
      payload: '{"parcelId":"p1"}',
      reason: expect.stringContaining('refunds are switched off') as string,
    })
    expect(await call('/api/dlq/no-such-entry')).toMatchObject({ status: 404 })

    expect(await call(`${path}/redrive`, { method: 'POST' })).toMatchObject({
      status: 200,
      body: { entry: { status: 'redriven', history: [{ action: 'redrive', by: 'ops' }] } },
    })
    expect(await call(`${path}/redrive`, { method: 'POST' })).toMatchObject({
      status: 409,
      body: { error: expect.stringContaining('the entry is redriven') as string },
    })
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
    const listed = await call('/api/operations?search=PARCEL&limit=10')
    expect(listed).toMatchObject({
      status: 200,
      body: {
        total: 1,
        operations: [{ id: operationId, name: 'parcelReport', status: 'started', events: 1 }],
      },
    })
    await eventually(async () =>
      expect((await call('/api/operations')).body.operations).toEqual([
        expect.objectContaining({ failures: 1 }),
      ]),
    )
    expect((await call('/api/operations?search=nothing-like-it')).body).toEqual({
      total: 0,
      operations: [],
    })
    expect((await call('/api/operations?status=lost')).status).toBe(400)
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
            failures: [{ consumerGroup: 'shipping.refund', inDeadLetterQueue: true }],
          },
        ],
      },
    })
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
    expect(await (await withCookie('/api/session')).json()).toMatchObject({ name: 'ops' })
    // A forged cookie (another name, same MAC) is refused.
    const forged = cookie.replace(/=([^.]+)\./, `=${Buffer.from('root').toString('base64url')}.`)
    expect((await fetch(`${admin.url}/api/dlq`, { headers: { cookie: forged } })).status).toBe(401)

    const signedOut = await withCookie('/api/session', 'DELETE')
    expect(signedOut.headers.get('set-cookie')).toMatch(/^ed_admin_session=; .*Max-Age=0$/)
    // The session ends by itself too.
    await eventually(async () => expect((await withCookie('/api/dlq')).status).toBe(401), {
      timeoutMs: 5_000,
    })
  })
})
