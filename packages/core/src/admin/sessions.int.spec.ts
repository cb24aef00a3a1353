import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import type { Service } from '../service.ts'
import { captureLogs, createTestService, dlqEntryIdOf } from '../testing/test-service.ts'
import { revocationsCollection, sessionRevocations } from './revocations.ts'
import { startAdminServer, type AdminServer, type AdminServerOptions } from './server.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'admin sessions')
const DeskClosed = defineEvent({
  subject: 'Desk.closed',
  version: 1,
  schema: z.object({ deskId: z.string() }),
})
const apiKeys = [
  { name: 'ops', secret: 'operator-secret' },
  { name: 'viewer', secret: 'viewer-secret', role: 'read' as const },
]

const logs = captureLogs()
const started: AdminServer[] = []
let service: Service
/** A second service over the same database: another admin server's instance. */
let otherService: Service
let entryId: string

/** The test says which client address a request comes from (header `x-test-client`). */
const byTestHeader = (req: IncomingMessage) => {
  const client = req.headers['x-test-client']
  return typeof client === 'string' ? client : 'local'
}

async function admin(options: Partial<AdminServerOptions> = {}): Promise<AdminServer> {
  const server = await startAdminServer({
    service,
    apiKeys,
    logger: logs.logger,
    clientAddress: byTestHeader,
    authFailureLimit: 3,
    ...options,
  })
  started.push(server)
  return server
}

beforeAll(async () => {
  service = await createTestService(ns, servers, 'desk')
  service.on(DeskClosed, { handler: 'reopen' }, async () => {
    throw new Error('desks stay closed')
  })
  await service.start()
  otherService = await createTestService(ns, servers, 'desk-admin')
  const op = await service.startOperation({ name: 'deskReport' })
  const eventId = await op.publish(DeskClosed, { deskId: 'd1' })
  entryId = await dlqEntryIdOf(service, eventId, 'desk.reopen')
})
afterAll(async () => {
  await Promise.all(started.map((server) => server.close()))
  await otherService.stop()
  await service.stop()
  await ns.cleanup()
})

interface Answer {
  status: number
  body: Record<string, unknown>
  headers: Headers
}

async function call(
  server: AdminServer,
  path: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(`${server.url}${path}`, {
    method: options.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
  const body = (await response.json()) as Record<string, unknown>
  return { status: response.status, body, headers: response.headers }
}

const signIn = (server: AdminServer, body: unknown, client = 'local') =>
  call(server, '/api/session', { method: 'POST', body, headers: { 'x-test-client': client } })

/** Signs in and returns the cookie to send back. */
async function sessionCookieOf(server: AdminServer, apiKey: string): Promise<string> {
  const answer = await signIn(server, { apiKey })
  expect(answer.status).toBe(200)
  return answer.headers.get('set-cookie')!.split(';')[0]!
}

const withCookie = (cookie: string, extra: Record<string, string> = {}) => ({
  headers: { cookie, ...extra },
})
const withKey = (secret: string, client = 'local') => ({
  headers: { authorization: `Bearer ${secret}`, 'x-test-client': client },
})

describe('admin sessions', () => {
  it('signs out on the server: the same cookie is refused afterwards, by every admin server over the database', async () => {
    const first = await admin()
    const second = await startAdminServer({ service: otherService, apiKeys, logger: logs.logger })
    started.push(second)
    const cookie = await sessionCookieOf(first, 'operator-secret')
    const other = await sessionCookieOf(first, 'operator-secret')
    expect((await call(first, '/api/dlq', withCookie(cookie))).status).toBe(200)
    expect((await call(second, '/api/dlq', withCookie(cookie))).status).toBe(200)
    const who = await call(first, '/api/session', withCookie(cookie))
    expect(who.body).toEqual({
      name: 'ops',
      role: 'operate',
      expiresAt: expect.any(String) as string,
    })

    const signedOut = await call(first, '/api/session', { method: 'DELETE', ...withCookie(cookie) })
    expect(signedOut).toMatchObject({ status: 200, body: { signedOut: true } })
    expect(signedOut.headers.get('set-cookie')).toMatch(/^ed_admin_session=; .*Max-Age=0$/)

    // A copy of the cookie kept after sign-out is dead, here and on the other server.
    for (const [server, path, method] of [
      [first, '/api/dlq', 'GET'],
      [second, '/api/dlq', 'GET'],
      [first, '/api/session', 'GET'],
      [first, '/api/session', 'DELETE'],
      [second, `/api/dlq/${entryId}/discard`, 'POST'],
    ] as const) {
      expect(await call(server, path, { method, ...withCookie(cookie) })).toMatchObject({
        status: 401,
        body: { error: 'unauthorized' },
      })
    }
    expect((await service.dlq.get(entryId))?.status).toBe('open')
    // Only that session ended: another one of the same key goes on.
    expect((await call(second, '/api/dlq', withCookie(other))).status).toBe(200)

    const expiresAt = new Date(who.body.expiresAt as string)
    const revocations = await service.store.db.collection(revocationsCollection).find().toArray()
    expect(revocations).toEqual([
      expect.objectContaining({ name: 'ops', expiresAt, revokedAt: expect.any(Date) as Date }),
    ])
    expect(logs.lines).toContainEqual(
      expect.objectContaining({ level: 40, msg: 'admin API session signed out: refused' }),
    )
  })

  it('ends a session when it expires, and refuses a cookie whose expiry or role was changed', async () => {
    const short = await admin({ sessionTtlMs: 1_000 })
    const viewer = await sessionCookieOf(short, 'viewer-secret')
    expect((await call(short, '/api/dlq', withCookie(viewer))).status).toBe(200)
    // `ed_admin_session=<name>.<role>.<id>.<expiresAt>.<mac>`: the MAC covers every part.
    const [name, role, id, expires, mac] = viewer.split('=')[1]!.split('.')
    for (const changed of [
      [name, 'operate', id, expires, mac],
      [name, role, id, String(Number(expires) + 3_600_000), mac],
      [name, role, 'another-id', expires, mac],
    ]) {
      const forged = `ed_admin_session=${changed.join('.')}`
      expect((await call(short, '/api/dlq', withCookie(forged))).status).toBe(401)
    }
    await eventually(
      async () => expect((await call(short, '/api/dlq', withCookie(viewer))).status).toBe(401),
      { timeoutMs: 5_000 },
    )
  })

  it('lets a read-only key read but not redrive, discard or resolve, by key or by session', async () => {
    const server = await admin()
    const entryPath = `/api/dlq/${encodeURIComponent(entryId)}`
    expect(await call(server, '/api/dlq?status=open', withKey('viewer-secret'))).toMatchObject({
      status: 200,
      body: { entries: [{ _id: entryId }], next: null },
    })
    expect((await call(server, entryPath, withKey('viewer-secret'))).status).toBe(200)
    const cookie = await sessionCookieOf(server, 'viewer-secret')
    expect((await call(server, '/api/session', withCookie(cookie))).body).toMatchObject({
      name: 'viewer',
      role: 'read',
    })
    for (const credentials of [withKey('viewer-secret'), withCookie(cookie)]) {
      for (const [path, body] of [
        [`${entryPath}/redrive`, {}],
        [`${entryPath}/discard`, { reason: 'not needed' }],
        [`${entryPath}/resolve`, { note: 'done by hand' }],
        ['/api/dlq/redrive', { all: true }],
      ] as const) {
        expect(await call(server, path, { method: 'POST', body, ...credentials })).toEqual({
          status: 403,
          body: {
            error: `the key "viewer" is read-only: POST ${path} needs a key with the operate role (redrive, discard, resolve)`,
          },
          headers: expect.anything() as Headers,
        })
      }
    }
    const entry = await service.dlq.get(entryId)
    expect(entry).toMatchObject({ status: 'open' })
    expect(entry?.history ?? []).toEqual([])
    expect(logs.lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: 'admin API request refused',
        keyName: 'viewer',
        method: 'POST',
        path: `${entryPath}/redrive`,
      }),
    )
    // A read-only session may still sign out, and an operator may act.
    expect(
      (await call(server, '/api/session', { method: 'DELETE', ...withCookie(cookie) })).status,
    ).toBe(200)
    expect(
      await call(server, `${entryPath}/redrive`, {
        method: 'POST',
        ...withKey('operator-secret'),
      }),
    ).toMatchObject({ status: 200, body: { entry: { status: 'redriven' } } })
  })

  it('throttles sign-in per address after N failures: 429 with Retry-After, the right key too, until the window passes', async () => {
    const server = await admin({ authFailureWindowMs: 3_000 })
    for (let i = 0; i < 3; i++)
      expect((await signIn(server, { apiKey: `guess-${i}` }, 'attacker')).status).toBe(401)
    const refused = await signIn(server, { apiKey: 'operator-secret' }, 'attacker')
    expect(refused).toMatchObject({
      status: 429,
      body: { error: expect.stringContaining('too many failed sign-ins') as string },
    })
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(3)
    expect(refused.headers.get('set-cookie')).toBeNull()
    // Another address is not held back.
    expect((await signIn(server, { apiKey: 'operator-secret' }, 'neighbour')).status).toBe(200)
    expect(logs.lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: 'admin API credentials throttled',
        address: 'attacker',
        retryAfterSeconds: expect.any(Number) as number,
      }),
    )
    await eventually(
      async () =>
        expect((await signIn(server, { apiKey: 'operator-secret' }, 'attacker')).status).toBe(200),
      { timeoutMs: 10_000, intervalMs: 250 },
    )
  })

  it('throttles sign-ins that name a key per name, from any address', async () => {
    const server = await admin()
    for (const client of ['n1', 'n2', 'n3'])
      expect((await signIn(server, { name: 'ops', apiKey: 'guess' }, client)).status).toBe(401)
    expect(await signIn(server, { name: 'ops', apiKey: 'operator-secret' }, 'n4')).toMatchObject({
      status: 429,
      body: { error: expect.stringContaining('or for this key name') as string },
    })
    // The right secret under another name is a failure, not a way in.
    expect((await signIn(server, { name: 'viewer', apiKey: 'operator-secret' }, 'n4')).status).toBe(
      401,
    )
    expect((await signIn(server, { name: 'viewer', apiKey: 'viewer-secret' }, 'n4')).status).toBe(
      200,
    )
    expect((await signIn(server, { apiKey: 'operator-secret' }, 'n4')).status).toBe(200)
  })

  it('throttles wrong API keys in headers per address the same way; sessions are not held back', async () => {
    const server = await admin()
    const cookie = await sessionCookieOf(server, 'operator-secret')
    expect((await call(server, '/api/dlq', withKey('wrong-1', 'prober'))).status).toBe(401)
    const viaHeader = await call(server, '/api/dlq', {
      headers: { 'x-api-key': 'wrong-2', 'x-test-client': 'prober' },
    })
    expect(viaHeader.status).toBe(401)
    expect((await call(server, '/api/dlq', withKey('wrong-3', 'prober'))).status).toBe(401)
    const refused = await call(server, '/api/dlq', withKey('operator-secret', 'prober'))
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await signIn(server, { apiKey: 'operator-secret' }, 'prober')).status).toBe(429)
    expect((await call(server, '/api/dlq', withKey('operator-secret', 'colleague'))).status).toBe(
      200,
    )
    expect(
      (await call(server, '/api/dlq', withCookie(cookie, { 'x-test-client': 'prober' }))).status,
    ).toBe(200)
  })

  it('marks the session cookie Secure when served over TLS, or when told it is behind a TLS proxy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'admin-tls-'))
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'pipe' },
      )
      const tls = {
        key: readFileSync(join(dir, 'key.pem')),
        cert: readFileSync(join(dir, 'cert.pem')),
      }
      const secure = await admin({ tls })
      expect(secure.url).toMatch(/^https:\/\//)
      const setCookie = await new Promise<string | undefined>((resolve, reject) => {
        const req = httpsRequest(
          `${secure.url}/api/session`,
          { method: 'POST', ca: tls.cert },
          (res) => {
            res.resume()
            resolve(res.headers['set-cookie']?.[0])
          },
        )
        req.on('error', reject).end(JSON.stringify({ apiKey: 'operator-secret' }))
      })
      expect(setCookie).toMatch(
        /^ed_admin_session=[^;]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+; Secure$/,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }

    const proxied = await admin({ secureCookies: true })
    const answer = await signIn(proxied, { apiKey: 'operator-secret' })
    expect(answer.headers.get('set-cookie')).toMatch(/; Secure$/)
    const plain = await admin()
    const forwarded = await call(plain, '/api/session', {
      method: 'POST',
      body: { apiKey: 'operator-secret' },
      headers: { 'x-forwarded-proto': 'https' },
    })
    expect(forwarded.headers.get('set-cookie')).not.toMatch(/Secure/)
  })

  it('removes the sign-outs of expired sessions now and then', async () => {
    const revocations = sessionRevocations(service.store.db, { sweepEveryMs: 0 })
    const collection = service.store.db.collection(revocationsCollection)
    await revocations.revoke({
      id: 'expired-one',
      name: 'ops',
      expiresAt: new Date(Date.now() - 1),
    })
    await revocations.revoke({
      id: 'live-one',
      name: 'ops',
      expiresAt: new Date(Date.now() + 60_000),
    })
    await revocations.revoke({
      id: 'live-one',
      name: 'ops',
      expiresAt: new Date(Date.now() + 60_000),
    })
    await eventually(async () =>
      expect(await collection.findOne({ _id: 'expired-one' as never })).toBeNull(),
    )
    expect(await revocations.isRevoked('live-one')).toBe(true)
    expect(await revocations.isRevoked('never-signed-out')).toBe(false)
  })
})

describe('admin sessions when MongoDB fails', () => {
  it('refuses a session it cannot check (503) rather than admitting it, and says a sign-out was not recorded', async () => {
    const mongo = await new MongoClient(servers.mongodbUrl).connect()
    const broken = await createTestService(ns, servers, 'depot', {
      scope: 'broken',
      mongodb: mongo,
    })
    const brokenLogs = captureLogs()
    const server = await startAdminServer({ service: broken, apiKeys, logger: brokenLogs.logger })
    try {
      const cookie = await sessionCookieOf(server, 'operator-secret')
      expect((await call(server, '/api/session', withCookie(cookie))).status).toBe(200)
      await mongo.close() // every query now fails
      expect(await call(server, '/api/session', withCookie(cookie))).toMatchObject({
        status: 503,
        body: {
          error: expect.stringContaining(
            'cannot check whether the session was signed out',
          ) as string,
        },
      })
      const signOut = await call(server, '/api/session', {
        method: 'DELETE',
        ...withCookie(cookie),
      })
      expect(signOut).toMatchObject({ status: 503 })
      expect(brokenLogs.lines).toContainEqual(
        expect.objectContaining({ level: 50, msg: 'admin API session could not be checked' }),
      )
      // Signing in needs no database: it still works, and a wrong key is still refused.
      expect((await signIn(server, { apiKey: 'operator-secret' })).status).toBe(200)
      expect((await signIn(server, { apiKey: 'wrong' })).status).toBe(401)
    } finally {
      await server.close()
      await broken.stop()
    }
  })
})
