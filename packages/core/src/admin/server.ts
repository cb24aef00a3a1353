import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { TLSSocket } from 'node:tls'
import { pino, type Logger } from 'pino'
import { ConfigurationError } from '../errors.ts'
import type { AdminSource as Service } from '../open-event-store.ts'
import type { MetricsText } from '../observe/prometheus.ts'
import { createAccess, isRefusal, type Caller, type Refusal } from './access.ts'
import { actorNameCache, type ActorNameOptions, type ActorNames } from './actor-names.ts'
import { BadRequest, NoRoute, apiSegments, jsonBody, queryOf, text, type Call } from './checks.ts'
import { clientAddressOf } from './client-address.ts'
import { roleOf, type ApiKey } from './credentials.ts'
import { liveTopics, liveUpdates, type LiveOptions } from './live.ts'
import { sessionRevocations } from './revocations.ts'
import type { SessionAnswer } from './schemas.ts'
import {
  issueSession,
  readCookie,
  sessionCookie,
  sessionCookieName,
  verifySession,
  type Session,
} from './session.ts'

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
   * Bounds of the live updates (`GET /api/live`, Server-Sent Events): one shared poll per
   * process, its interval, the most operations watched and the most open streams.
   */
  live?: LiveOptions
  /**
   * Display names for actors (a user's name for a user id): the operations page and an
   * operation's chain show them beside the actor as recorded (`actorName`). Called with the
   * distinct actors of a page not known yet (at most 200); names are kept 30 s. One that throws,
   * or answers after 1 s, is logged at warn and the page shows the actors as recorded.
   */
  actorNames?: ActorNames
  /** Bounds of the actor name lookups (keep time, timeout, actors per lookup, cache size). */
  actorNameOptions?: ActorNameOptions
  /**
   * Where refused requests (warn, with the reason) and failures (error, with the cause, method
   * and path) are logged. Default: a pino logger named `admin`.
   */
  logger?: Logger
}

/**
 * The admin API as a Node request handler. `ready` settles once its routes are loaded: it
 * rejects when the optional peers (hono, @hono/zod-openapi, zod) are not installed.
 */
export interface AdminHandler {
  (req: IncomingMessage, res: ServerResponse): void
  ready: Promise<void>
}

export interface AdminServer {
  url: string
  close(): Promise<void>
}

/** Methods that change nothing: all a read-only key may use. */
const readMethods = new Set(['GET', 'HEAD'])

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

function refuse(res: ServerResponse, refusal: Refusal) {
  if (refusal.retryAfterSeconds !== undefined)
    res.setHeader('retry-after', String(refusal.retryAfterSeconds))
  send(res, refusal.status, { error: refusal.error })
}

/** The path as sent (before `?`), for the checks URL parsing would hide. */
function rawPathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/'
}

/** The packages the routes need: optional peers, loaded only where an admin API is served. */
const routePeers = ['hono', '@hono/zod-openapi', 'zod']

// Loaded when an admin handler is made, so that `@event-driven/core/admin` (the CLI, scripts)
// needs Hono only where the API is served.
async function loadAdminApi(): Promise<typeof import('./api.ts')> {
  try {
    return await import('./api.ts')
  } catch (error) {
    const message = (error as Error).message
    const missing =
      ['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND'].includes(
        (error as NodeJS.ErrnoException).code ?? '',
      ) && routePeers.some((name) => message.includes(`'${name}'`))
    if (!missing) throw error
    throw new ConfigurationError(
      `The admin API needs the packages ${routePeers.join(', ')} (optional peer dependencies of @event-driven/core): npm install ${routePeers.join(' ')}`,
    )
  }
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
): AdminHandler {
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
  const live = liveUpdates(service.store, logger, options.live)
  const secure = (req: IncomingMessage) =>
    options.secureCookies === true || (req.socket as Partial<TLSSocket>).encrypted === true

  const actorNames =
    options.actorNames && actorNameCache(options.actorNames, logger, options.actorNameOptions)
  const api = loadAdminApi().then((load) =>
    load.adminApi(service, actorNames ? { actorNames } : {}),
  )
  // Reported when a request needs it (startAdminServer awaits it at start).
  api.catch(() => undefined)

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
    const answer = await (await api).answer(call)
    res
      .writeHead(answer.status, { 'content-type': 'application/json' })
      .end(Buffer.from(await answer.arrayBuffer()))
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
    const answer: SessionAnswer = {
      name: key.name,
      role: roleOf(key),
      expiresAt: expiresAt.toISOString(),
    }
    return send(res, 200, answer)
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
        live.signedOut(session.id)
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

  /**
   * `GET /api/live`: a stream of notices (`dlq`, `operation:<id>`) saying what changed, not the
   * data. It ends when the session is signed out or expires; a comment every 15 s keeps proxies
   * from closing it.
   */
  const stream = (req: IncomingMessage, res: ServerResponse, caller: Caller) => {
    if (req.method !== 'GET')
      throw new NoRoute(`no route ${req.method} /api/live: live updates are read with GET`)
    const topics = liveTopics(queryOf(new URL(req.url ?? '/', 'http://admin').searchParams))
    const write = (event: string, data: string) => res.write(`event: ${event}\ndata: ${data}\n\n`)
    // The heartbeat and the session's expiry: cleared when the stream ends.
    const timers: NodeJS.Timeout[] = []
    const end = () => {
      for (const timer of timers) clearTimeout(timer)
      leave()
      res.end()
    }
    const joined = live.join({
      ...topics,
      ...(caller.session ? { sessionId: caller.session.id } : {}),
      notify: (notice) => write('change', notice),
      ready: () => write('ready', ''),
      end: (reason) => {
        write('end', reason)
        end()
      },
    })
    if (typeof joined !== 'function') {
      res.setHeader('retry-after', '30')
      return send(res, 503, { error: joined.refused })
    }
    const leave = joined
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    })
    res.write('retry: 5000\n\n')
    timers.push(setInterval(() => res.write(': ping\n\n'), 15_000))
    if (caller.session) {
      const left = caller.session.expiresAt.getTime() - Date.now()
      const expire = () => {
        write('end', 'session expired')
        end()
      }
      timers.push(setTimeout(expire, Math.max(0, Math.min(left, 2 ** 31 - 1))))
    }
    req.on('close', end)
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
      if (method === 'GET') {
        const answer: SessionAnswer = {
          name: caller.name,
          role: caller.role,
          expiresAt: caller.session?.expiresAt.toISOString() ?? null,
        }
        return send(res, 200, answer)
      }
      // A read-only key may sign out too.
      if (method === 'DELETE') return signOut(req, res, caller.session ?? signedIn(req))
    }
    if (path === '/api/metrics') return metrics(req, res)
    if (path === '/api/live') return stream(req, res, caller)
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

  const handler = (req: IncomingMessage, res: ServerResponse) =>
    void handle(req, res).catch(failed(req, res))
  return Object.assign(handler, { ready: api.then(() => undefined) })
}

/**
 * Runs `createAdminHandler` on its own HTTP server (HTTPS with `tls`; loopback by default): the
 * admin API, and the dashboard when `ui` is given, on one port.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const handler = createAdminHandler(options)
  await handler.ready
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
