import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/**
 * One thing a process's readiness depends on: its name and whether it is ready, with whatever
 * else it reports (a `ServiceHealth` is one). `/readyz` shows it as it is.
 */
export interface Readiness {
  name: string
  ready: boolean
}

/** Asks one thing whether it is ready. A check that throws or hangs counts as not ready. */
export type ReadinessCheck = () => Promise<Readiness>

/** What `/metrics` answers (Prometheus text format, or OpenMetrics). */
export interface MetricsAnswer {
  contentType: string
  body: string
}

export interface ProbeServerOptions {
  /** Default 127.0.0.1: probes are for the orchestrator on the same host or pod network. */
  host?: string
  /** Default 0: a free port (see `ProbeServer.url`). */
  port?: number
  /** Every check must be ready for `/readyz` to answer 200. */
  checks: readonly ReadinessCheck[]
  /** Serves `GET /metrics` when given; without it `/metrics` is 404. */
  metrics?: () => Promise<MetricsAnswer>
  /** How long `/readyz` waits for a check before counting it as not ready. Default 2 s. */
  checkTimeoutMs?: number
}

/** A running probe server. */
export interface ProbeServer {
  /** `http://<host>:<port>`, with the port it listens on. */
  url: string
  port: number
  /** Stops answering: `/healthz` answers until this is called. */
  close(): Promise<void>
}

/** Defaults of `ProbeServerOptions`. */
export const probeServerDefaults = { host: '127.0.0.1', port: 0, checkTimeoutMs: 2_000 } as const

/** What `/readyz` answers: 200 with every check ready, else 503 naming those that are not. */
export interface ReadinessAnswer {
  ready: boolean
  /** The names of the checks that are not ready. */
  notReady: string[]
  checks: (Readiness & Record<string, unknown>)[]
}

/** Runs every check at once; one that throws or outlasts `timeoutMs` is not ready, with why. */
export async function readinessOf(
  checks: readonly ReadinessCheck[],
  timeoutMs: number = probeServerDefaults.checkTimeoutMs,
): Promise<ReadinessAnswer> {
  const answers = await Promise.all(
    checks.map((check, index) => askWithin(check, timeoutMs, `check ${index + 1}`)),
  )
  const notReady = answers.filter((a) => !a.ready).map((a) => a.name)
  return { ready: notReady.length === 0, notReady, checks: answers }
}

async function askWithin(
  check: ReadinessCheck,
  timeoutMs: number,
  fallbackName: string,
): Promise<Readiness & Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    return (await Promise.race([check(), timedOut])) as Readiness & Record<string, unknown>
  } catch (error) {
    return {
      name: fallbackName,
      ready: false,
      error: error instanceof Error ? error.message : String(error),
    }
  } finally {
    clearTimeout(timer)
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    .end(JSON.stringify(body))
}

/**
 * The probe routes as a request handler: `GET /healthz` (200 while the process answers),
 * `GET /readyz` (200 when every check is ready, else 503 with what is not), `GET /metrics` when
 * `metrics` is given; any other path 404, any other method 405.
 */
export function probeHandler(
  options: Pick<ProbeServerOptions, 'checks' | 'metrics' | 'checkTimeoutMs'>,
): (req: IncomingMessage, res: ServerResponse) => void {
  const routes: Record<string, (res: ServerResponse) => Promise<void> | void> = {
    '/healthz': (res) => sendJson(res, 200, { alive: true }),
    '/readyz': async (res) => {
      const answer = await readinessOf(options.checks, options.checkTimeoutMs)
      sendJson(res, answer.ready ? 200 : 503, answer)
    },
    ...(options.metrics
      ? {
          '/metrics': async (res: ServerResponse) => {
            const { contentType, body } = await options.metrics!()
            res.writeHead(200, { 'content-type': contentType }).end(body)
          },
        }
      : {}),
  }
  return (req, res) => {
    // The query string is ignored: `/readyz?verbose` is `/readyz`.
    const path = (req.url ?? '/').split('?')[0]!
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined
    if (!route) return sendJson(res, 404, { error: `no probe at ${path.slice(0, 100)}` })
    if (req.method !== 'GET')
      return void res
        .writeHead(405, { allow: 'GET', 'content-type': 'application/json' })
        .end(JSON.stringify({ error: `${path} is read with GET` }))
    Promise.resolve(route(res)).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy()
      sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) })
    })
  }
}

/**
 * Starts the probe server of a process: `/healthz`, `/readyz` and, when given, `/metrics` (see
 * `probeHandler`). It listens on loopback unless `host` says otherwise.
 */
export async function startProbeServer(options: ProbeServerOptions): Promise<ProbeServer> {
  const host = options.host ?? probeServerDefaults.host
  const server: Server = createServer(probeHandler(options))
  // Bytes no HTTP parser accepts get a 400 and a closed socket, never an exception.
  server.on('clientError', (_error, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n')
    else socket.destroy()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? probeServerDefaults.port, host, resolve)
  })
  const { port } = server.address() as { port: number }
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
