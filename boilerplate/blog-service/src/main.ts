// The blog service: users, blogs and comments services behind a graphql-yoga gateway.
//   node src/main.ts            all of it in one process (a modular monolith)
//   node src/main.ts --split    each service and the gateway as its own process (or BLOG_SPLIT=1)
//   node src/main.ts --only X   one of users | blogs | comments | <added services> | gateway | admin
// The admin API (DLQ, operations, consumer groups) runs too when ADMIN_API_KEYS is set.
// PROBE_PORT set: every process serves /healthz, /readyz and /metrics there (0: a free port,
// printed as `probe: <url>`; with --split the children take PROBE_PORT + their index). See
// docs/observability.md. OTEL_EXPORTER_OTLP_ENDPOINT set: spans go there (src/tracing.ts).
// Events go through JetStream and reads through NATS request-reply in every mode: splitting
// changes how processes start, never service code.
import { spawn, type ChildProcess } from 'node:child_process'
import { join, relative } from 'node:path'
import { prometheusMetrics } from '@event-driven/core'
import {
  configFromEnv,
  createLogger,
  probePortOfPart,
  probeSettingsFromEnv,
  startGateway,
  startProbeServer,
  type Readiness,
  type ServiceModule,
} from '@event-driven/service-kit'
import { startAdmin } from './admin.ts'
import { startTracing } from './tracing.ts'
import { blogs } from './blogs/service.ts'
import { comments } from './comments/service.ts'
import { addedServices } from './services.ts'
import { users } from './users/service.ts'

/** Every service: the blog's own, then those added with `event-driven new`. */
const modules: readonly ServiceModule[] = [users, blogs, comments, ...addedServices]
type Part = string
const parts: readonly Part[] = [
  ...modules.map((m) => m.name),
  'gateway',
  ...(process.env.ADMIN_API_KEYS ? ['admin'] : []),
]

// Text in a terminal or in development, JSON lines otherwise; LOG_LEVEL sets the level.
const logger = createLogger()
const args = process.argv.slice(2)
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined
const split = args.includes('--split') || process.env.BLOG_SPLIT === '1'
// One registry for every service of this process: served at the probe server's /metrics.
const metrics = prometheusMetrics()
// Read first: a bad PROBE_PORT stops the start before anything connects.
const probeSettings = probeSettingsFromEnv()
// Before anything connects: every span of the process goes through it. A --split parent runs
// no part, so it traces nothing.
const processTracing = split && !only ? undefined : startTracing(only ? `blog-${only}` : 'blog')

interface RunningPart {
  stop(): Promise<void>
  url?: string
  webhookUrls?: Record<string, string>
  adminUrl?: string
  health?(): Promise<Readiness>
}

/**
 * The probe server of this process: alive from the start, ready once every part started and
 * while each is ready; not ready from the moment the process begins to stop.
 */
async function startProbe(names: readonly Part[], started: Map<Part, RunningPart>) {
  if (!probeSettings) return { stopping() {}, close: async () => {} }
  let stopping = false
  const checks = names.map((name) => async (): Promise<Readiness> => {
    const part = started.get(name)
    if (!part) return { name, ready: false, reason: 'starting' } as Readiness
    const health = part.health ? await part.health() : { name, ready: true }
    return stopping
      ? ({ ...health, ready: false, reason: 'the process is stopping' } as Readiness)
      : health
  })
  const probe = await startProbeServer({ ...probeSettings, checks, metrics: metrics.scrape })
  process.stdout.write(`probe: ${probe.url} (${names.join(', ')})\n`)
  return { stopping: () => void (stopping = true), close: () => probe.close() }
}

async function startPart(part: Part): Promise<RunningPart> {
  const config = { ...configFromEnv(), metrics, tracing: processTracing?.tracing }
  const module = modules.find((m) => m.name === part)
  if (module) return module.start(config, logger)
  if (part === 'admin') return startAdmin(config, logger)
  // Mutations made with a token check that its user still exists (the users service's `get`).
  return startGateway(config, logger, modules, { actorLookup: { service: 'users', method: 'get' } })
}

function announce(url: string, webhookUrls: Record<string, string> = {}) {
  // The idempotency key makes it safe to send again after a timeout: it is applied once.
  const mutation = `mutation { userRegister(input: { username: "ada", password: "correct-horse", firstName: "Ada", lastName: "Lovelace" }, idempotencyKey: "register-ada-1") { operationId user { id username } } }`
  process.stdout.write(
    [
      '',
      `GraphQL: ${url}  (open it in a browser for GraphiQL)`,
      'Paste this mutation there, or run:',
      `  curl -s ${url} -H 'content-type: application/json' -d '${JSON.stringify({ query: mutation })}'`,
      `Then: userLogin(username: "ada", password: "correct-horse") { token } and send "Authorization: Bearer <token>"`,
      `for userUpdateNames, blogCreate and commentCreate; operation(id) shows each chain.`,
      ...(webhookUrls.moderation
        ? [
            `Webhook: POST ${webhookUrls.moderation} (signed, Standard Webhooks) moderates a comment; send one with`,
            `  node ${relative(process.cwd(), join(import.meta.dirname, 'send-webhook.ts'))} ${webhookUrls.moderation} '{"commentId":"<comment id>","verdict":"approved"}'`,
            `  (it signs with WEBHOOK_SECRET_MODERATION, or the development secret) and see operation(id) for its chain.`,
          ]
        : []),
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  )
}

/** Stops what runs here on SIGTERM/SIGINT (draining handlers), then exits. */
function stopOnSignals(stop: () => Promise<void>) {
  let stopping = false
  const handle = () => {
    if (stopping) return
    stopping = true
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stopping failed')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', handle)
  process.once('SIGINT', handle)
}

if (split && !only) {
  // One child process per part; this process only starts, forwards output, and stops them.
  const children: ChildProcess[] = []
  for (const [index, part] of parts.entries()) {
    const child = spawn(process.execPath, [import.meta.filename, '--only', part], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: probeSettings
        ? { ...process.env, PROBE_PORT: String(probePortOfPart(probeSettings.port, index)) }
        : process.env,
    })
    children.push(child)
    child.once('exit', (code) => {
      if (code !== 0 && code !== null) logger.error({ part, code }, 'a part exited')
    })
  }
  stopOnSignals(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null) return resolve(undefined)
            child.once('exit', resolve)
            child.kill('SIGTERM')
          }),
      ),
    )
  })
} else {
  const here = only ? [only] : parts
  for (const part of here)
    if (!parts.includes(part))
      throw new Error(`--only takes one of ${parts.join(', ')}; got ${part}`)
  const started = new Map<Part, RunningPart>()
  const probe = await startProbe(here, started)
  for (const part of here) started.set(part, await startPart(part))
  const running = [...started.values()]
  stopOnSignals(async () => {
    // Not ready first, so a load balancer stops sending work before any part stops taking it.
    probe.stopping()
    for (const part of running.reverse()) await part.stop()
    await probe.close()
    await processTracing?.shutdown()
  })
  const gateway = running.find((r) => r.url)
  if (gateway?.url) announce(gateway.url, gateway.webhookUrls)
  const admin = running.find((r) => r.adminUrl)
  if (admin?.adminUrl)
    process.stdout.write(
      `Dashboard: ${admin.adminUrl}  (sign in with the secret of a key in ADMIN_API_KEYS)\nAdmin API: ${admin.adminUrl}/api/openapi.json (the same secret as Bearer)\n`,
    )
  process.stdout.write(`ready: ${here.join(', ')}\n`)
}
