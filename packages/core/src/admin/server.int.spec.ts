import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import type { Service } from '../service.ts'
import { deliveryKey } from '../store/event-store.ts'
import { createTestService } from '../testing/test-service.ts'
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
  admin = await startAdminServer({ service, apiKeys: [{ name: 'ops', secret: 'correct-secret' }] })
  const op = await service.startOperation({ name: 'parcelReport' })
  operationId = op.id
  eventId = await op.publish(ParcelLost, { parcelId: 'p1' })
  entryId = deliveryKey(eventId, 'shipping.refund')
  await eventually(async () => expect(await service.dlq.get(entryId)).not.toBeNull())
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
})
