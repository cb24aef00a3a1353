import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { DlqFilter } from '../dlq/manage.ts'
import type { Service } from '../service.ts'
import type { DlqStatus, OperationRecord } from '../store/event-store.ts'
import { operationChain } from '../store/operation-chain.ts'
import { consumerGroupsWithDlq, listOperations, subjectMap } from './views.ts'
import { findApiKey, type ApiKey } from './credentials.ts'
import {
  issueSession,
  readCookie,
  sessionCookie,
  sessionCookieName,
  verifySession,
} from './session.ts'
import { openApiDocument } from './openapi.ts'

export interface AdminServerOptions {
  service: Service
  /** Who may call; the key's name is recorded as who acted. */
  apiKeys: readonly ApiKey[]
  port?: number
  host?: string
  /** How long a browser session (signing in with a key, see /api/session) lasts. Default 8 h. */
  sessionTtlMs?: number
  /**
   * Serves a web UI (the dashboard: `dashboardHandler()` of `@event-driven/dashboard`) on every
   * path outside `/api/`, on the same port. Without a session, a page redirects to `/sign-in`;
   * only that page and the bundle's `/assets/` (code, no data) are served to anyone.
   */
  ui?: (req: IncomingMessage, res: ServerResponse) => Promise<void>
}

export interface AdminServer {
  url: string
  close(): Promise<void>
}

/** A request that cannot be served as sent: answered 400 with the reason. */
class BadRequest extends Error {}

const idPattern = /^[\w.:/#-]{1,300}$/
const statuses: readonly DlqStatus[] = ['open', 'redriven', 'discarded', 'resolved']
const operationStatuses: readonly OperationRecord['status'][] = ['started', 'completed', 'failed']

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

function id(raw: string): string {
  const decoded = decodeURIComponent(raw)
  if (!idPattern.test(decoded))
    throw new BadRequest(`malformed id: ${JSON.stringify(decoded.slice(0, 100))}`)
  return decoded
}

function date(name: string, value: string | null): Date | undefined {
  if (value === null) return undefined
  const parsed = new Date(value)
  if (Number.isNaN(parsed.getTime())) throw new BadRequest(`${name} is not a date: ${value}`)
  return parsed
}

function count(name: string, value: string | null, fallback: number, max: number): number {
  if (value === null) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new BadRequest(`${name} must be a whole number from 0 to ${max}`)
  return n
}

function filterFrom(source: Record<string, unknown>): DlqFilter {
  const text = (name: string) => {
    const value = source[name]
    if (value === undefined || value === null || value === '') return undefined
    if (typeof value !== 'string' || value.length > 300)
      throw new BadRequest(`${name} must be a string`)
    return value
  }
  const status = text('status')
  if (status && !statuses.includes(status as DlqStatus))
    throw new BadRequest(`status must be one of ${statuses.join(', ')}`)
  return {
    service: text('service'),
    consumerGroup: text('consumerGroup'),
    subject: text('subject'),
    status: status as DlqStatus | undefined,
    from: date('from', text('from') ?? null),
    to: date('to', text('to') ?? null),
  }
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > 64 * 1024) throw new BadRequest('the body is larger than 64 KiB')
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return {}
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new Error('not an object')
    return body as Record<string, unknown>
  } catch {
    throw new BadRequest('the body is not a JSON object')
  }
}

/**
 * The admin HTTP API (JSON, documented at /api/openapi.json) as a request handler, to mount in a
 * server of your own (or run with `startAdminServer`): the DLQ, operations, events, subjects and
 * consumer groups. Every request needs an API key (`Authorization: Bearer <secret>` or
 * `X-API-Key`) or a session cookie from `POST /api/session` (signing in with a key); without
 * one the answer is 401 and nothing else.
 */
export function createAdminHandler(
  options: Omit<AdminServerOptions, 'port' | 'host'>,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { service, apiKeys } = options
  const route = async (req: IncomingMessage, res: ServerResponse, by: string) => {
    const url = new URL(req.url ?? '/', 'http://admin')
    const query = Object.fromEntries(url.searchParams)
    const parts = url.pathname.split('/').filter(Boolean) // ['api', ...]
    const method = req.method ?? 'GET'
    const [api, resource, rawId, action] = parts
    if (api !== 'api') return send(res, 404, { error: 'not found' })

    if (method === 'GET' && resource === 'openapi.json') return send(res, 200, openApiDocument)
    if (resource === 'dlq') {
      if (method === 'GET' && !rawId) {
        const page = {
          limit: count('limit', url.searchParams.get('limit'), 50, 500),
          skip: count('skip', url.searchParams.get('skip'), 0, 1_000_000),
        }
        return send(res, 200, await service.dlq.list(filterFrom(query), page))
      }
      if (method === 'POST' && rawId === 'redrive' && !action) {
        return send(res, 200, await service.dlq.redriveWhere(filterFrom(await jsonBody(req)), by))
      }
      if (rawId && method === 'GET' && !action) {
        const entry = await service.dlq.get(id(rawId))
        return entry
          ? send(res, 200, entry)
          : send(res, 404, { error: `no DLQ entry ${id(rawId)}` })
      }
      if (rawId && method === 'POST' && action) {
        const entryId = id(rawId)
        const body = await jsonBody(req)
        let result
        if (action === 'redrive') result = await service.dlq.redrive(entryId, by)
        else if (action === 'discard') {
          if (typeof body.reason !== 'string' || !body.reason.trim())
            throw new BadRequest('discard needs a reason: { "reason": "…" }')
          result = await service.dlq.discard(entryId, by, body.reason)
        } else if (action === 'resolve') {
          result = await service.dlq.resolve(
            entryId,
            by,
            typeof body.note === 'string' ? body.note : undefined,
          )
        } else return send(res, 404, { error: `no action ${action}` })
        if (result.ok) return send(res, 200, { entry: result.entry })
        return send(res, result.code === 'not-found' ? 404 : 409, { error: result.reason })
      }
    }
    if (method === 'GET' && resource === 'operations') {
      if (!rawId) {
        const status = url.searchParams.get('status') ?? undefined
        if (status && !operationStatuses.includes(status as OperationRecord['status']))
          throw new BadRequest(`status must be one of ${operationStatuses.join(', ')}`)
        const search = url.searchParams.get('search') ?? undefined
        if (search && search.length > 200) throw new BadRequest('search is longer than 200')
        return send(
          res,
          200,
          await listOperations(service.store, {
            search,
            status: status as OperationRecord['status'] | undefined,
            limit: count('limit', url.searchParams.get('limit'), 50, 500),
            skip: count('skip', url.searchParams.get('skip'), 0, 1_000_000),
          }),
        )
      }
      if (action === 'chain') {
        const chain = await operationChain(service.store, id(rawId))
        return chain
          ? send(res, 200, chain)
          : send(res, 404, { error: `no operation ${id(rawId)}` })
      }
      const operationId = id(rawId)
      const operation = await service.store.operations.findOne({ _id: operationId })
      if (!operation) return send(res, 404, { error: `no operation ${operationId}` })
      const events = [
        ...(await service.store.events.find({ operationId }).toArray()),
        ...(await service.store.outbox.find({ operationId }).toArray()),
      ]
      return send(res, 200, { operation, events })
    }
    if (method === 'GET' && resource === 'events' && rawId) {
      const eventId = id(rawId)
      const event =
        (await service.store.events.findOne({ _id: eventId })) ??
        (await service.store.outbox.findOne({ _id: eventId }))
      return event ? send(res, 200, event) : send(res, 404, { error: `no event ${eventId}` })
    }
    if (method === 'GET' && resource === 'consumer-groups') {
      return send(res, 200, { consumerGroups: await consumerGroupsWithDlq(service) })
    }
    if (method === 'GET' && resource === 'subjects') {
      return send(res, 200, { subjects: await subjectMap(service) })
    }
    return send(res, 404, { error: `no route ${method} ${url.pathname}` })
  }

  const sessionTtlMs = options.sessionTtlMs ?? 8 * 3_600_000

  /** Signing in: the one call that needs no credentials, since it checks them. */
  const signIn = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await jsonBody(req)
    const key = findApiKey(apiKeys, typeof body.apiKey === 'string' ? body.apiKey : undefined)
    if (!key) return send(res, 401, { error: 'unauthorized' })
    const { token, expiresAt } = issueSession(key, sessionTtlMs)
    res.setHeader('set-cookie', sessionCookie(token, Math.floor(sessionTtlMs / 1000)))
    return send(res, 200, { name: key.name, expiresAt })
  }

  return (req, res) => {
    const fail = (error: unknown) => {
      if (error instanceof BadRequest) return send(res, 400, { error: error.message })
      send(res, 500, { error: 'internal error; see the service log' })
    }
    if (req.method === 'POST' && req.url === '/api/session')
      return void signIn(req, res).catch(fail)
    const bearer = req.headers.authorization?.replace(/^Bearer\s+/i, '')
    const key = findApiKey(apiKeys, (req.headers['x-api-key'] as string | undefined) ?? bearer)
    const session = key
      ? null
      : verifySession(apiKeys, readCookie(req.headers.cookie, sessionCookieName))
    const who = key ?? session?.key
    const path = new URL(req.url ?? '/', 'http://admin').pathname
    if (!path.startsWith('/api/') && options.ui) {
      if (!who && path !== '/sign-in' && !path.startsWith('/assets/')) {
        return void res.writeHead(302, { location: '/sign-in' }).end()
      }
      return void options.ui(req, res).catch(fail)
    }
    if (!who) return send(res, 401, { error: 'unauthorized' })
    if (req.url === '/api/session') {
      if (req.method === 'GET')
        return send(res, 200, { name: who.name, expiresAt: session?.expiresAt ?? null })
      if (req.method === 'DELETE') {
        res.setHeader('set-cookie', sessionCookie())
        return send(res, 200, { signedOut: true })
      }
    }
    route(req, res, who.name).catch(fail)
  }
}

/**
 * Runs `createAdminHandler` on its own HTTP server (loopback by default): the admin API, and the
 * dashboard when `ui` is given, on one port.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const server: Server = createServer(createAdminHandler(options))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve)
  })
  const { port } = server.address() as { port: number }
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
