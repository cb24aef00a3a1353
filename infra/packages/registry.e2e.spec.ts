import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createTestNamespace,
  eventually,
  freePort,
  getTestServers,
  startProcess,
} from '../../packages/testing/src/index.ts'
import { publishLocally, userEnv, type LocalRegistry } from './local-registry.ts'

// A user's path on a clean machine, with the packages as a release publishes them: every
// package built and packed, published to a local registry (verdaccio on loopback), then
// installed with plain npm in a folder outside this repository and run with plain node.
const run = promisify(execFile)
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'registry')

let work: string
let registry: LocalRegistry
let version: string
const inUserShell = (cwd: string, command: string, args: string[]) =>
  run(command, args, {
    cwd,
    env: userEnv({ npm_config_userconfig: registry.npmrc }),
    maxBuffer: 16 * 1024 * 1024,
  })

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'event-driven-user-'))
  ;({ registry, version } = await publishLocally(work))
  const { stdout: node } = await inUserShell(work, 'node', ['--version'])
  const { stdout: npm } = await inUserShell(work, 'npm', ['--version'])
  console.log(`the user's shell: node ${node.trim()}, npm ${npm.trim()}`)
}, 180_000)
afterAll(async () => {
  await registry?.stop()
  if (work) rmSync(work, { recursive: true, force: true })
  await ns.cleanup()
})

/** A new project folder with a package.json, like `npm init -y` makes. */
function project(name: string): string {
  const dir = join(work, name)
  mkdirSync(dir)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }))
  return dir
}

const plainScript = `
import { createService, defineEvent } from '@event-driven/core'
// Any Standard Schema works; this one takes everything.
const anything = { '~standard': { version: 1, vendor: 'plain', validate: (value) => ({ value }) } }
const Pinged = defineEvent({ subject: 'Plain.pinged', version: 1, schema: anything })
const service = await createService({
  name: 'plain',
  nats: process.env.NATS_URL,
  mongodb: process.env.MONGODB_URL,
  database: process.env.DATABASE,
  stream: { name: process.env.STREAM_PREFIX + '_EVENTS', subjectPrefix: process.env.STREAM_PREFIX },
})
let handled
const done = new Promise((resolve) => (handled = resolve))
service.on(Pinged, { handler: 'print' }, async (event) => handled(event.data.n))
await service.start()
const op = await service.startOperation({ name: 'plainPing' })
await op.publish(Pinged, { n: 42 })
console.log('handled', await done)
await service.stop()
`

describe('the packages from a registry', () => {
  it('@event-driven/core installs alone with npm and runs a script with plain node', async () => {
    const dir = project('plain-app')
    await inUserShell(dir, 'npm', ['install', `@event-driven/core@${version}`])
    const installed = (name: string) => existsSync(join(dir, 'node_modules', name, 'package.json'))
    // Its peers come with it; the S3 archive's, Slack's and Prometheus's do not (optional,
    // loaded on use).
    expect(
      ['mongodb', '@nats-io/jetstream', '@nats-io/transport-node'].filter(installed),
    ).toHaveLength(3)
    expect(['@aws-sdk/client-s3', '@slack/webhook', 'prom-client'].filter(installed)).toEqual([])
    const { stdout: size } = await run('du', ['-sk', join(dir, 'node_modules')])
    console.log(
      `npm install @event-driven/core: node_modules ${Number(size.split('\t')[0]) >> 10} MB`,
    )

    writeFileSync(join(dir, 'ping.js'), plainScript)
    const env = {
      NATS_URL: servers.natsUrl,
      MONGODB_URL: servers.mongodbUrl,
      DATABASE: ns.database,
      STREAM_PREFIX: ns.subjectPrefix,
    }
    const { stdout } = await run('node', ['ping.js'], {
      cwd: dir,
      env: userEnv(env),
      timeout: 60_000,
    })
    expect(stdout).toContain('handled 42')

    // A feature whose optional peer is missing says what to install, at once.
    writeFileSync(
      join(dir, 'alerts.js'),
      plainScript.replace(
        "name: 'plain',",
        "name: 'plain', alerts: { slackWebhookUrl: 'http://127.0.0.1:9/slack' },",
      ),
    )
    const refused = await run('node', ['alerts.js'], {
      cwd: dir,
      env: userEnv(env),
      timeout: 60_000,
    }).catch((error: { stderr: string }) => error)
    expect('stderr' in refused && refused.stderr).toContain(
      'Slack alerts needs the package @slack/webhook (an optional peer dependency of @event-driven/core): npm install @slack/webhook',
    )
    writeFileSync(
      join(dir, 'metrics.js'),
      "import { prometheusMetrics } from '@event-driven/core'\nprometheusMetrics()\n",
    )
    const noMetrics = await run('node', ['metrics.js'], { cwd: dir, env: userEnv(env) }).catch(
      (error: { stderr: string }) => error,
    )
    expect('stderr' in noMetrics && noMetrics.stderr).toContain(
      'Prometheus metrics needs the package prom-client (an optional peer dependency of @event-driven/core): npm install prom-client',
    )
  }, 240_000)
})

/** `KEY=value` lines (as `event-driven servers up` prints them) as an object. */
function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim()))
      .flatMap((match) => (match ? [[match[1]!, match[2]!]] : [])),
  )
}

async function graphql(url: string, query: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  })
  return (await response.json()) as {
    data: Record<string, Record<string, unknown> | null> | null
    errors?: { message: string }[]
  }
}

describe('npm create event-driven', () => {
  let app: string
  let serversEnv: Record<string, string> = {}
  const inApp = (command: string, args: string[], extra: Record<string, string> = {}) =>
    run(command, args, {
      cwd: app,
      env: userEnv({ npm_config_userconfig: registry.npmrc, ...serversEnv, ...extra }),
      maxBuffer: 16 * 1024 * 1024,
    })
  afterAll(async () => {
    // The servers this app started, stopped by the pids they recorded.
    if (app && existsSync(join(app, '.event-driven')))
      await inApp('npx', ['event-driven', 'servers', 'down'])
  })

  it('makes an app that installs, gets its own servers, passes its tests and answers a mutation with its chain', async () => {
    await inUserShell(work, 'npm', ['create', '--yes', `event-driven@${version}`, 'my-app'])
    app = join(work, 'my-app')
    const made = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
      devDependencies: Record<string, string>
    }
    expect(made.dependencies['@event-driven/core']).toBe(`^${version}`)
    expect(made.devDependencies['@event-driven/cli']).toBe(`^${version}`)
    await inApp('npm', ['install'])

    // Servers of its own, on ports of their own (the repo's tests use the usual ones).
    const ports = {
      ED_NATS_PORT: String(await freePort()),
      ED_NATS_MONITOR_PORT: String(await freePort()),
      ED_MONGODB_PORT: String(await freePort()),
      ED_POSTGRES_PORT: String(await freePort()),
      ED_S3_PORT: String(await freePort()),
    }
    const { stdout } = await inApp('npx', ['event-driven', 'servers', 'up'], ports)
    serversEnv = parseEnv(stdout)
    expect(serversEnv.NATS_URL).toBe(`nats://127.0.0.1:${ports.ED_NATS_PORT}`)

    const tested = await inApp('npm', ['test'])
    expect(tested.stdout).toContain('app.int.spec.ts')

    const gatewayPort = await freePort()
    const started = startProcess('npm', ['start'], {
      cwd: app,
      env: userEnv({
        ...serversEnv,
        PORT: String(gatewayPort),
        ADMIN_PORT: String(await freePort()),
      }),
      detached: true,
    })
    try {
      await eventually(() => expect(started.output()).toMatch(/ready: .*gateway/), {
        timeoutMs: 60_000,
      })
      const url = `http://127.0.0.1:${gatewayPort}/graphql`
      const registered = await graphql(
        url,
        `
          mutation {
            userRegister(
              input: {
                username: "grace"
                password: "correct-horse"
                firstName: "Grace"
                lastName: "Hopper"
              }
            ) {
              operationId
            }
          }
        `,
      )
      const operationId = registered.data?.userRegister?.operationId as string
      expect(operationId, JSON.stringify(registered)).toBeTruthy()
      await eventually(
        async () => {
          const { data } = await graphql(
            url,
            `{ operation(id: "${operationId}") { status events { subject handledBy } } }`,
          )
          expect(data?.operation).toMatchObject({
            status: 'completed',
            events: [{ subject: 'User.registered' }],
          })
        },
        { timeoutMs: 20_000 },
      )
    } finally {
      // Ctrl-C, as a terminal sends it to the foreground job: the app drains and stops every
      // service; npm, interrupted too, then ends itself with the same signal, as it always does.
      if (started.child.exitCode === null) process.kill(-started.child.pid!, 'SIGINT')
      expect(await started.exited, started.output()).toBe('SIGINT')
    }
    const output = started.output()
    for (const service of ['users', 'blogs', 'comments'])
      expect(output).toContain(`"msg":"service ${service} stopped"`)
    expect(output).not.toMatch(/stopping failed|npm error/)

    // Growing it: a service in src/billing wired into the app, an event and a handler more.
    await inApp('npx', ['event-driven', 'new', 'billing', '--consumes', 'User.registered'])
    expect(readFileSync(join(app, 'src', 'services.ts'), 'utf8')).toContain(
      "import { billing } from './billing/service.ts'",
    )
    await inApp('npx', ['event-driven', 'add', 'event', 'Invoice.sent', '--service', 'billing'])
    await inApp('npx', ['event-driven', 'add', 'handler', 'Blog.created', '--service', 'billing'])
    await inApp('npm', ['run', 'lint'])
    const again = await inApp('npm', ['test'])
    expect(again.stdout).toContain('onUserRegistered.unit.spec.ts')
    expect(again.stdout).toContain('onBlogCreated.unit.spec.ts')
    expect(again.stdout).toContain('app.int.spec.ts')
  }, 600_000)

  it('makes a minimal one-service app with --minimal: the CLI runs from its install, and its tests pass', async () => {
    await inUserShell(work, 'npm', [
      'create',
      '--yes',
      `event-driven@${version}`,
      'solo',
      '--',
      '--minimal',
    ])
    const solo = join(work, 'solo')
    const made = JSON.parse(readFileSync(join(solo, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
    }
    expect(made.dependencies['@event-driven/core']).toBe(`^${version}`)
    await inUserShell(solo, 'npm', ['install'])
    const { stdout: shown } = await inUserShell(solo, 'npx', ['event-driven', '--version'])
    expect(shown.trim()).toBe(version)
    const tested = await inUserShell(solo, 'npm', ['test'])
    // npm test exits 0 only when the tests pass; this says they ran.
    expect(tested.stdout).toContain('onSoloRecorded.unit.spec.ts')
  }, 300_000)
})
