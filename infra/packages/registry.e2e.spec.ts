import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestNamespace, getTestServers } from '../../packages/testing/src/index.ts'
import { startLocalRegistry, userEnv, type LocalRegistry } from './local-registry.ts'
import { packAll } from './pack.ts'

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
  const packed = packAll(join(work, 'tarballs'))
  version = packed.find((p) => p.name === '@event-driven/core')!.version
  registry = await startLocalRegistry(join(work, 'registry'))
  for (const pkg of packed) await inUserShell(work, 'npm', ['publish', pkg.tarball])
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
    // Its peers come with it; the S3 archive's and Slack's do not (optional, loaded on use).
    expect(
      ['mongodb', '@nats-io/jetstream', '@nats-io/transport-node'].filter(installed),
    ).toHaveLength(3)
    expect(['@aws-sdk/client-s3', '@slack/webhook'].filter(installed)).toEqual([])
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
  }, 240_000)

  it('the CLI runs from an install: --version, and new makes a service that installs and passes its tests', async () => {
    const dir = project('cli-app')
    await inUserShell(dir, 'npm', ['install', '--save-dev', `@event-driven/cli@${version}`])
    const { stdout: shown } = await inUserShell(dir, 'npx', ['event-driven', '--version'])
    expect(shown.trim()).toBe(version)
    await inUserShell(dir, 'npx', ['event-driven', 'new', 'billing', '--consumes', 'Invoice.paid'])
    const made = JSON.parse(readFileSync(join(dir, 'billing', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
    }
    expect(made.dependencies['@event-driven/core']).toBe(`^${version}`)
    await inUserShell(join(dir, 'billing'), 'npm', ['install'])
    const tested = await inUserShell(join(dir, 'billing'), 'npm', ['test'])
    // npm test exits 0 only when the tests pass; this says they ran.
    expect(tested.stdout).toContain('onInvoicePaid.unit.spec.ts')
  }, 400_000)
})
