import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { TLSSocket } from 'node:tls'
import { pino, type Logger } from 'pino'
import {
  DlqFilterError,
  dlqFilterFields,
  type DlqActionResult,
  type DlqFilter,
  type DlqManager,
} from '../dlq/manage.ts'
import type { AdminSource as Service } from '../open-event-store.ts'
import type { MetricsText } from '../observe/prometheus.ts'
import type { DlqStatus, OperationRecord } from '../store/event-store.ts'
import { operationChain, recordedEvent, recordedEventsOf } from '../store/operation-chain.ts'
import { consumerGroupsWithDlq, listOperations, subjectMap } from './views.ts'
import { dlqActionAnswer, type Answer } from './answer.ts'
import { createAccess, isRefusal, type Refusal } from './access.ts'
import { clientAddressOf } from './client-address.ts'
import { roleOf, type ApiKey } from './credentials.ts'
import { sessionRevocations } from './revocations.ts'
import {
  issueSession,
  readCookie,
  sessionCookie,
  sessionCookieName,
  verifySession,
  type Session,
} from './session.ts'
import { openApiDocument } from './openapi.ts'

export interface AdminServerOptions {
  /** Its event store holds the DLQ and operations, and the sign-outs (`admin_session_revocations`). */
  /** What it reads and acts on: `openEventStore(…)` (or a running service). */
  service: Service
  /**
   * Who may call; the key's name is recorded as who acted. A key with `role: 'read'` may read
   * only (any other method answers 403); without a role it may also redrive, discard, resolve.
   */
  apiKeys: readonly ApiKey[]
  port?: number
  host?: string
  /**
   * `startAdminServer` serves HTTPS with this key and certificate (PEM) instead of HTTP; its
   * session cookies are then `Secure`.
   */
  tls?: { key: string | Buffer; cert: string | Buffer }
  /** How long a browser session (signing in with a key, see /api/session) lasts. Default 8 h. */
  sessionTtlMs?: number
  /**
   * Mark session cookies `Secure` on every request: for a server behind a proxy that terminates
   * TLS. Without it they are `Secure` when the request itself came over TLS. (X-Forwarded-Proto
   * is not trusted: anyone can send it.)
   */
  secureCookies?: boolean
  /**
   * Failed sign-ins or wrong API keys from one client address (or naming one key) that block it
   * with 429 until the window ends, even with the right key. Default 5.
   */
  authFailureLimit?: number
  /** The window those failures are counted in, from the first. Default 15 min. */
  authFailureWindowMs?: number
  /** Most client addresses counted at once (the oldest is forgotten first). Default 10,000. */
  authThrottleMaxAddresses?: number
  /**
   * The address a request is counted under. Default: the socket's peer (IPv6 by its /64). Behind
   * a proxy every request comes from the proxy: give the client's address from a header only
   * that proxy sets.
   */
  clientAddress?: (req: IncomingMessage) => string
  /**
   * Serves a web UI (the dashboard: `dashboardHandler()` of `@event-driven/dashboard`) on every
   * path outside `/api/`, on the same port. Without a session, a page redirects to `/sign-in`;
   * only that page and the bundle's `/assets/` (code, no data) are served to anyone.
   */
  ui?: (req: IncomingMessage, res: ServerResponse) => Promise<void>
  /**
   * Serves `GET /api/metrics` (Prometheus text), behind the same credentials as every API call
   * (a read-only key is enough; Prometheus sends it as a bearer token): e.g. `scrape` of
   * `prometheusMetrics({ system: service })`, which reads the system's figures once for every
   * process. Without it `/api/metrics` answers 404.
   */
  metrics?: () => Promise<MetricsText>
  /**
   * Where refused requests (warn, with the reason) and failures (error, with the cause, method
   * and path) are logged. Default: a pino logger named `admin`.
   */
  logger?: Logger
}

export interface AdminServer {
  url: string
  close(): Promise<void>
}

// These two never leave this module (each becomes an answer), so they carry no error code.
/** A request that cannot be served as sent: answered 400 with the reason. */
class BadRequest extends Error {}

/** A path that names no route: answered 404 with the reason. */
class NoRoute extends Error {}

/** One authenticated API call: the path's segments after `/api/`, still percent-encoded. */
interface Call {
  req: IncomingMessage
  method: string
  path: string
  segments: string[]
  query: Record<string, string>
  by: string
}

const maxIdLength = 1024
const maxFilterLength = 300
const maxNoteLength = 10_000
const statuses: readonly DlqStatus[] = ['open', 'redriven', 'discarded', 'resolved']
const operationStatuses: readonly OperationRecord['status'][] = ['started', 'completed', 'failed']
const dlqListFields: readonly string[] = [...dlqFilterFields, 'limit', 'before']
const bulkRedriveFields: readonly string[] = [...dlqFilterFields, 'all']
const operationListFields: readonly string[] = ['search', 'status', 'limit', 'before']
const dlqActions = ['redrive', 'discard', 'resolve'] as const
type DlqActionName = (typeof dlqActions)[number]
/** Each action's body: anything else is refused, so a misspelt note is not dropped silently. */
const dlqActionFields: Record<DlqActionName, readonly string[]> = {
  redrive: [],
  discard: ['reason'],
  resolve: ['note'],
}

const ok = (body: unknown): Answer => ({ status: 200, body })
const notFound = (error: string): Answer => ({ status: 404, body: { error } })

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

function refuse(res: ServerResponse, refusal: Refusal) {
  if (refusal.retryAfterSeconds !== undefined)
    res.setHeader('retry-after', String(refusal.retryAfterSeconds))
  send(res, refusal.status, { error: refusal.error })
}

/** Methods that change nothing: all a read-only key may use. */
const readMethods = new Set(['GET', 'HEAD'])

/** Text from outside, quoted and cut, for an error message or a log line. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text)
}

function noRoute(call: Call, why: string): never {
  throw new NoRoute(`no route ${call.method} ${call.path.slice(0, 200)}: ${why}`)
}

// `.`/`..` (plain or encoded) and `\` would be resolved away by URL parsing, so the path would
// name another route than the one sent.
const dotSegmentOrBackslash = /(^|\/)(\.|%2e){1,2}(\/|$)|\\/i

/** The segments after `/api/`, still percent-encoded so that an id may hold `/`. */
function apiSegments(rawPath: string, pathname: string): string[] {
  if (dotSegmentOrBackslash.test(rawPath))
    throw new BadRequest(
      'the path has a . or .. segment or a backslash, which URLs resolve away: it would name another route',
    )
  // `//host/…` would be read as a host and a path.
  if (rawPath.startsWith('//'))
    throw new BadRequest('the path has an empty segment: an id is never empty')
  const segments = pathname.split('/').slice(1)
  if (segments.length > 1 && segments.at(-1) === '') segments.pop() // a trailing slash
  if (segments[0] !== 'api') throw new NoRoute(`no route ${pathname.slice(0, 200)}`)
  if (segments.includes(''))
    throw new BadRequest('the path has an empty segment: an id is never empty')
  return segments.slice(1)
}

/** An id from the path: any text of 1 to 1024 characters but NUL, percent-encoded. */
function id(raw: string): string {
  let decoded: string
  try {
    decoded = decodeURIComponent(raw)
  } catch {
    throw new BadRequest(`malformed percent-encoding in the id ${quoted(raw)}`)
  }
  if (decoded.includes('\u0000')) throw new BadRequest('ids never contain NUL')
  if (decoded.length === 0 || decoded.length > maxIdLength)
    throw new BadRequest(`an id has 1 to ${maxIdLength} characters, not ${decoded.length}`)
  return decoded
}

/** The query string's parameters, each given once: a repeated one would be half ignored. */
function queryOf(params: URLSearchParams): Record<string, string> {
  const seen = new Set<string>()
  for (const name of params.keys()) {
    if (seen.has(name)) throw new BadRequest(`${quoted(name)} is given twice`)
    seen.add(name)
  }
  return Object.fromEntries(params)
}

/** Refuses any field outside `allowed`: an ignored filter field would widen the selection. */
function onlyFields(source: Record<string, unknown>, allowed: readonly string[], kind: string) {
  const unknown = Object.keys(source).find((name) => !allowed.includes(name))
  if (unknown !== undefined)
    throw new BadRequest(
      `unknown ${kind} ${quoted(unknown)}: ${allowed.length ? `only ${allowed.join(', ')}` : 'none is taken'}`,
    )
}

/** A text field: absent when missing, null or empty; never NUL, which a server may refuse to store. */
function text(
  source: Record<string, unknown>,
  name: string,
  maxLength: number,
): string | undefined {
  const value = source[name]
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value !== 'string') throw new BadRequest(`${name} must be a string`)
  if (value.length > maxLength)
    throw new BadRequest(`${name} is longer than ${maxLength} characters`)
  if (value.includes('\u0000')) throw new BadRequest(`${name} must not contain NUL`)
  return value
}

function date(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const parsed = new Date(value)
  if (Number.isNaN(parsed.getTime())) throw new BadRequest(`${name} is not a date: ${value}`)
  return parsed
}

function count(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  // Digits only: Number() would also take '', '1e2', '0x10' and ' 5 '.
  const n = /^\d{1,7}$/.test(value) ? Number(value) : Number.NaN
  if (!(n >= min && n <= max))
    throw new BadRequest(`${name} must be a whole number from ${min} to ${max}`)
  return n
}

/** A list's page: `limit`, and `before` (the page before's `next`) for keyset paging. */
function page(query: Record<string, string>): { limit: number; before: string | undefined } {
  return {
    limit: count('limit', query.limit, 50, 1, 500),
    before: text(query, 'before', maxIdLength),
  }
}

function dlqFilter(source: Record<string, unknown>): DlqFilter {
  const field = (name: string) => text(source, name, maxFilterLength)
  const status = field('status')
  if (status && !statuses.includes(status as DlqStatus))
    throw new BadRequest(`status must be one of ${statuses.join(', ')}`)
  return {
    service: field('service'),
    consumerGroup: field('consumerGroup'),
    subject: field('subject'),
    status: status as DlqStatus | undefined,
    eventId: field('eventId'),
    from: date('from', field('from')),
    to: date('to', field('to')),
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
 * Redrives what the body selects: a filter, or `{ "all": true }` for every open entry. An empty
 * filter is refused, so a forgotten filter never redrives the whole DLQ.
 */
async function bulkRedrive(dlq: DlqManager, body: Record<string, unknown>, by: string) {
  onlyFields(body, bulkRedriveFields, 'field')
  const { all, ...selection } = body
  if (all !== undefined && typeof all !== 'boolean')
    throw new BadRequest('all must be true or false')
  const filter = dlqFilter(selection)
  // Only open entries are redriven: another status would be ignored, not obeyed.
  if (filter.status && filter.status !== 'open')
    throw new BadRequest('status: only open entries are redriven')
  if (all) {
    if (Object.values(filter).some((value) => value !== undefined))
      throw new BadRequest('"all": true redrives every open entry: send it without a filter')
    return dlq.redriveWhere('all', by)
  }
  try {
    return await dlq.redriveWhere(filter, by)
  } catch (error) {
    if (error instanceof DlqFilterError)
      throw new BadRequest(`${error.message} (send { "all": true } to redrive every open entry)`)
    throw error
  }
}

/** Carries out one action on one entry, its body checked first. */
async function dlqAction(
  dlq: DlqManager,
  entryId: string,
  action: DlqActionName,
  body: Record<string, unknown>,
  by: string,
): Promise<DlqActionResult> {
  onlyFields(body, dlqActionFields[action], `field for ${action}`)
  if (action === 'redrive') return dlq.redrive(entryId, by)
  if (action === 'discard') {
    const reason = text(body, 'reason', maxNoteLength)
    if (!reason?.trim()) throw new BadRequest('discard needs a reason: { "reason": "…" }')
    return dlq.discard(entryId, by, reason)
  }
  return dlq.resolve(entryId, by, text(body, 'note', maxNoteLength))
}

/** `/api/dlq[/{id}[/{action}]]` and `/api/dlq/redrive`. */
async function dlqRoute(service: Service, call: Call): Promise<Answer> {
  const [rawId, action, ...extra] = call.segments.slice(1)
  if (extra.length > 0) noRoute(call, 'too many path segments')
  if (rawId === undefined) {
    if (call.method !== 'GET') noRoute(call, 'the DLQ is listed with GET')
    onlyFields(call.query, dlqListFields, 'query parameter')
    return ok(await service.dlq.list(dlqFilter(call.query), page(call.query)))
  }
  if (rawId === 'redrive' && action === undefined && call.method === 'POST')
    return ok(await bulkRedrive(service.dlq, await jsonBody(call.req), call.by))
  const entryId = id(rawId)
  if (action === undefined) {
    if (call.method !== 'GET') noRoute(call, 'an entry is shown with GET, acted on at /{action}')
    const entry = await service.dlq.get(entryId)
    return entry ? ok(entry) : notFound(`no DLQ entry ${entryId}`)
  }
  const known = dlqActions.find((name) => name === action)
  if (call.method !== 'POST' || !known)
    noRoute(call, `the actions are POST ${dlqActions.join(', ')}`)
  return dlqActionAnswer(
    await dlqAction(service.dlq, entryId, known, await jsonBody(call.req), call.by),
  )
}

/** `/api/operations[/{id}[/chain]]`. */
async function operationsRoute(service: Service, call: Call): Promise<Answer> {
  const [rawId, view, ...extra] = call.segments.slice(1)
  if (call.method !== 'GET') noRoute(call, 'operations are read with GET')
  if (extra.length > 0 || (view !== undefined && view !== 'chain'))
    noRoute(call, 'an operation has /{id} and /{id}/chain')
  if (rawId === undefined) {
    onlyFields(call.query, operationListFields, 'query parameter')
    const status = text(call.query, 'status', 20)
    if (status && !operationStatuses.includes(status as OperationRecord['status']))
      throw new BadRequest(`status must be one of ${operationStatuses.join(', ')}`)
    const search = text(call.query, 'search', 200)
    return ok(
      await listOperations(service.store, {
        search,
        status: status as OperationRecord['status'] | undefined,
        ...page(call.query),
      }),
    )
  }
  const operationId = id(rawId)
  if (view === 'chain') {
    const chain = await operationChain(service.store, operationId)
    return chain ? ok(chain) : notFound(`no operation ${operationId}`)
  }
  const operation = await service.store.operations.findOne({ _id: operationId })
  if (!operation) return notFound(`no operation ${operationId}`)
  return ok({ operation, events: await recordedEventsOf(service.store, operationId) })
}

/** `/api/events/{id}`: from the events, or the outbox while it is not yet published. */
async function eventRoute(service: Service, call: Call): Promise<Answer> {
  const [rawId, ...extra] = call.segments.slice(1)
  if (call.method !== 'GET' || rawId === undefined || extra.length > 0)
    noRoute(call, 'an event is read with GET /api/events/{id}')
  const eventId = id(rawId)
  const event = await recordedEvent(service.store, eventId)
  return event ? ok(event) : notFound(`no event ${eventId}`)
}

/** The routes of one segment, read with GET. */
const singles = new Map<string, (service: Service) => Promise<unknown>>([
  ['openapi.json', async () => openApiDocument],
  [
    'consumer-groups',
    async (service) => ({ consumerGroups: await consumerGroupsWithDlq(service) }),
  ],
  ['subjects', async (service) => ({ subjects: await subjectMap(service) })],
])

async function route(service: Service, call: Call): Promise<Answer> {
  const [resource = '', ...rest] = call.segments
  if (resource === 'dlq') return dlqRoute(service, call)
  if (resource === 'operations') return operationsRoute(service, call)
  if (resource === 'events') return eventRoute(service, call)
  const single = singles.get(resource)
  if (!single) noRoute(call, 'see /api/openapi.json')
  if (call.method !== 'GET' || rest.length > 0) noRoute(call, `/api/${resource} is read with GET`)
  return ok(await single(service))
}

/** The path as sent (before `?`), for the checks URL parsing would hide. */
function rawPathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/'
}

/**
 * The admin HTTP API (JSON, documented at /api/openapi.json) as a request handler, to mount in a
 * server of your own (or run with `startAdminServer`): the DLQ, operations, events, subjects and
 * consumer groups. Every request needs an API key (`Authorization: Bearer <secret>` or
 * `X-API-Key`) or a session cookie from `POST /api/session` (signing in with a key) that was not
 * signed out; without one the answer is 401 and nothing else. A read-only key gets 403 on every
 * method but GET; too many failed attempts from one address get 429.
 */
export function createAdminHandler(
  options: Omit<AdminServerOptions, 'port' | 'host' | 'tls'>,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { service, apiKeys } = options
  const logger = options.logger ?? pino({ name: 'admin' })
  const revocations = sessionRevocations(service.store.db, {
    onSweepError: (err) =>
      logger.warn({ err }, 'admin sessions: removing expired sign-outs failed'),
  })
  const access = createAccess({
    apiKeys,
    revocations,
    failureLimit: options.authFailureLimit ?? 5,
    failureWindowMs: options.authFailureWindowMs ?? 15 * 60_000,
    maxTrackedAddresses: options.authThrottleMaxAddresses ?? 10_000,
    clientAddress: options.clientAddress ?? clientAddressOf,
    logger,
  })
  const sessionTtlMs = options.sessionTtlMs ?? 8 * 3_600_000
  const secure = (req: IncomingMessage) =>
    options.secureCookies === true || (req.socket as Partial<TLSSocket>).encrypted === true

  const serve = async (req: IncomingMessage, res: ServerResponse, by: string) => {
    const url = new URL(req.url ?? '/', 'http://admin')
    const call: Call = {
      req,
      method: req.method ?? 'GET',
      path: url.pathname,
      segments: apiSegments(rawPathOf(req), url.pathname),
      query: queryOf(url.searchParams),
      by,
    }
    const answer = await route(service, call)
    send(res, answer.status, answer.body)
  }

  /**
   * Signing in: the one call that needs no credentials, since it checks them. `name` (optional)
   * says whose key it is: then failures count against that name too.
   */
  const signIn = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await jsonBody(req)
    const name = text(body, 'name', 200)
    const key = access.signIn(req, typeof body.apiKey === 'string' ? body.apiKey : undefined, name)
    if (isRefusal(key)) return refuse(res, key)
    const { token, expiresAt } = issueSession(key, sessionTtlMs)
    res.setHeader(
      'set-cookie',
      sessionCookie(token, Math.floor(sessionTtlMs / 1000), { secure: secure(req) }),
    )
    return send(res, 200, { name: key.name, role: roleOf(key), expiresAt })
  }

  /**
   * Signing out: the session is recorded as revoked (for every admin server over this
   * database) before the cookie is cleared; if that cannot be recorded the cookie stays, the
   * answer is 503, and signing out again is safe.
   */
  const signOut = async (
    req: IncomingMessage,
    res: ServerResponse,
    session: Session | undefined,
  ) => {
    if (session) {
      try {
        await revocations.revoke({
          id: session.id,
          name: session.key.name,
          expiresAt: session.expiresAt,
        })
      } catch (error) {
        logger.error(
          { err: error, keyName: session.key.name },
          'admin sign-out could not be recorded',
        )
        return send(res, 503, {
          error: `the sign-out could not be recorded (the event store does not answer): the session stays valid until ${session.expiresAt.toISOString()}; try again`,
        })
      }
    }
    res.setHeader('set-cookie', sessionCookie(undefined, 0, { secure: secure(req) }))
    return send(res, 200, { signedOut: true })
  }

  /** The cookie's session when it verifies (a call made with a key may carry one too). */
  const signedIn = (req: IncomingMessage) =>
    verifySession(apiKeys, readCookie(req.headers.cookie, sessionCookieName)) ?? undefined

  /** Refusals are logged at warn (a probe shows), failures at error with their cause. */
  const failed = (req: IncomingMessage, res: ServerResponse) => (error: unknown) => {
    const where = { method: req.method, path: rawPathOf(req).slice(0, 300) }
    if (error instanceof BadRequest || error instanceof NoRoute) {
      logger.warn({ ...where, reason: error.message }, 'admin API request refused')
      return send(res, error instanceof BadRequest ? 400 : 404, { error: error.message })
    }
    logger.error({ err: error, ...where }, 'admin API request failed')
    if (res.headersSent) return void res.destroy()
    send(res, 500, { error: 'internal error; see the service log' })
  }

  /** `GET /api/metrics`, for a caller already admitted. */
  const metrics = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET')
      throw new NoRoute(`no route ${req.method} /api/metrics: metrics are read with GET`)
    if (!options.metrics)
      throw new NoRoute(
        'no route /api/metrics: this admin server was started without metrics (AdminServerOptions.metrics)',
      )
    const { contentType, body } = await options.metrics()
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && req.url === '/api/session') return signIn(req, res)
    const path = new URL(req.url ?? '/', 'http://admin').pathname
    if (!path.startsWith('/api/') && options.ui) {
      // The sign-in page and the bundle's code hold no data: served to anyone.
      if (path === '/sign-in' || path.startsWith('/assets/')) return options.ui(req, res)
      const caller = await access.caller(req)
      if (!isRefusal(caller)) return options.ui(req, res)
      if (caller.status === 401) return void res.writeHead(302, { location: '/sign-in' }).end()
      return refuse(res, caller)
    }
    const caller = await access.caller(req)
    if (isRefusal(caller)) return refuse(res, caller)
    const method = req.method ?? 'GET'
    if (req.url === '/api/session') {
      if (method === 'GET')
        return send(res, 200, {
          name: caller.name,
          role: caller.role,
          expiresAt: caller.session?.expiresAt ?? null,
        })
      // A read-only key may sign out too.
      if (method === 'DELETE') return signOut(req, res, caller.session ?? signedIn(req))
    }
    if (path === '/api/metrics') return metrics(req, res)
    if (caller.role === 'read' && !readMethods.has(method)) {
      const error = `the key "${caller.name}" is read-only: ${method} ${path.slice(0, 200)} needs a key with the operate role (redrive, discard, resolve)`
      logger.warn(
        { method, path: path.slice(0, 300), keyName: caller.name, reason: error },
        'admin API request refused',
      )
      return send(res, 403, { error })
    }
    return serve(req, res, caller.name)
  }

  return (req, res) => void handle(req, res).catch(failed(req, res))
}

/**
 * Runs `createAdminHandler` on its own HTTP server (HTTPS with `tls`; loopback by default): the
 * admin API, and the dashboard when `ui` is given, on one port.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const handler = createAdminHandler(options)
  const server: Server = options.tls
    ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, handler)
    : createServer(handler)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve)
  })
  const { port } = server.address() as { port: number }
  return {
    url: `${options.tls ? 'https' : 'http'}://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
