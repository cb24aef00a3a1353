import { execFileSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import {
  createTestNamespace,
  eventually,
  freePort,
  getTestServers,
  runCommand,
  terminalEnv,
  type NodeProcess,
} from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blogEnv, gql, startBlogProcess } from './testing/blog-process.ts'
import { chainOf, registerAndLogin } from './testing/flow.ts'

// `event-driven new` in a copy of this monorepo (a temp workspace): refused names change
// nothing; a generated service builds, lints and passes its test; run with the blog's services,
// the gateway serves its mutation and its handler gets another service's event.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'scaffold')
const repo = join(import.meta.dirname, '..', '..', '..')
const workspace = mkdtempSync(join(tmpdir(), 'event-driven-ws-'))
const outside = mkdtempSync(join(tmpdir(), 'event-driven-outside-'))
let blog: NodeProcess | undefined

// As in a terminal: without the outer runner's settings (terminalEnv).
const run = (command: string, args: string[], cwd = workspace) =>
  runCommand(command, args, { cwd, env: terminalEnv({ CI: 'true' }) })
const cli = (...args: string[]) =>
  run(process.execPath, [
    '--conditions=@event-driven/source',
    join(workspace, 'packages/cli/src/main.ts'),
    ...args,
  ])
const install = () => run('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile'])

/** What `new` may touch: the folders under boilerplate/ and the two files it wires into. */
function snapshot() {
  const blogService = join(workspace, 'boilerplate/blog-service')
  return {
    folders: readdirSync(join(workspace, 'boilerplate')).sort(),
    registry: readFileSync(join(blogService, 'src/services.ts'), 'utf8'),
    packageJson: readFileSync(join(blogService, 'package.json'), 'utf8'),
  }
}

beforeAll(async () => {
  // The repository's files as a clone has them (no node_modules, no local servers' data).
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repo })
    .toString()
    .split('\0')
    .filter((file) => file && existsSync(join(repo, file)))
  for (const file of files) {
    mkdirSync(dirname(join(workspace, file)), { recursive: true })
    cpSync(join(repo, file), join(workspace, file))
  }
  const installed = await install()
  expect(installed.code, installed.stderr + installed.stdout).toBe(0)
}, 180_000)

afterAll(async () => {
  await blog?.stop()
  rmSync(workspace, { recursive: true, force: true })
  rmSync(outside, { recursive: true, force: true })
  await ns.cleanup()
})

describe('event-driven new', () => {
  it('refuses invalid names, existing names and subjects that do not parse, and writes nothing', async () => {
    const before = snapshot()
    const refusals: [string[], string][] = [
      [['Billing'], '"Billing" is not a service name'],
      [['9lives'], '"9lives" is not a service name'],
      [['users'], '"users" is taken by the blog service'],
      [['blog-service'], 'exists already'],
      [
        ['billing', '--events', 'invoice.issued'],
        '--events: "invoice.issued" is not <Entity>.<pastTenseVerb>',
      ],
      [
        ['billing', '--consumes', 'User.registered,User'],
        '--consumes: "User" is not <Entity>.<pastTenseVerb>',
      ],
      [
        ['billing', '--events', 'Invoice.issued,Invoice.issued'],
        '--events: Invoice.issued is given twice',
      ],
      [
        ['billing', '--dir', join(workspace, 'packages/billing')],
        'a service goes in boilerplate/<name>',
      ],
    ]
    for (const [args, message] of refusals) {
      const result = await cli('new', ...args)
      expect(result.code, args.join(' ')).toBe(1)
      expect(result.stderr).toContain(message)
    }
    expect((await cli('new')).code).toBe(2)
    expect(snapshot()).toEqual(before)
    expect(readdirSync(join(workspace, 'boilerplate')).some((name) => name.startsWith('.'))).toBe(
      false,
    )
  })

  it('generates a service that builds, lints and passes its own test without edits', async () => {
    const created = await cli(
      'new',
      'billing',
      '--events',
      'Invoice.issued',
      '--consumes',
      'User.registered',
    )
    expect(created.code, created.stderr).toBe(0)
    expect(created.stdout).toContain('created the billing service in boilerplate/billing')
    for (const file of [
      'package.json',
      'README.md',
      'src/events.ts',
      'src/gateway.ts',
      'src/service.ts',
      'src/handlers/onUserRegistered.unit.spec.ts',
    ]) {
      expect(existsSync(join(workspace, 'boilerplate/billing', file)), file).toBe(true)
    }
    const pkg = JSON.parse(
      readFileSync(join(workspace, 'boilerplate/billing/package.json'), 'utf8'),
    ) as {
      dependencies: Record<string, string>
    }
    expect(pkg.dependencies).toMatchObject({
      '@event-driven/core': 'workspace:*',
      '@event-driven/service-kit': 'workspace:*',
    })
    expect(snapshot().registry).toContain(`import { billing } from 'billing-service'`)
    // The same name again is refused: the folder exists.
    expect((await cli('new', 'billing')).stderr).toContain('exists already')

    expect((await install()).code).toBe(0)
    const lint = await run('pnpm', ['--filter', 'billing-service', 'lint'])
    expect(lint.code, lint.stdout + lint.stderr).toBe(0)
    const test = await run('pnpm', ['--filter', 'billing-service', 'test'])
    expect(test.code, test.stdout + test.stderr).toBe(0)
    expect(test.stdout).toMatch(/2 passed/)
    const format = await run('pnpm', ['exec', 'prettier', '--check', 'boilerplate'])
    expect(format.code, format.stdout).toBe(0)
  }, 120_000)

  it('runs with the blog services: the gateway serves its mutation, and its handler gets User.registered', async () => {
    const port = await freePort()
    blog = await startBlogProcess(
      [],
      blogEnv(ns, servers, port),
      ['users', 'blogs', 'comments', 'billing', 'gateway'],
      join(workspace, 'boilerplate/blog-service/src/main.ts'),
    )
    const url = `http://127.0.0.1:${port}/graphql`
    const recorded = await gql<{ recordInvoiceIssued: { operationId: string; invoiceId: string } }>(
      url,
      `mutation { recordInvoiceIssued(note: "first invoice") { operationId invoiceId } }`,
    )
    expect(recorded.errors).toBeUndefined()
    const { operationId } = recorded.data!.recordInvoiceIssued
    await chainOf(url, operationId, (events) =>
      expect(events.map((e) => [e.subject, e.parentId])).toEqual([['Invoice.issued', operationId]]),
    )

    // Another service's event reaches the new service's handler, and the chain shows it.
    await registerAndLogin(url, 'grace')
    const mongo = await new MongoClient(servers.mongodbUrl).connect()
    try {
      const received = mongo.db(`${ns.database}_billing`).collection('received')
      const doc = await eventually(async () => {
        const found = await received.findOne({ subject: 'User.registered' })
        expect(found).not.toBeNull()
        return found!
      })
      await chainOf(url, String(doc.operationId), (events) => {
        expect(events[0]).toMatchObject({ subject: 'User.registered', id: doc._id })
        expect(events[0]!.handledBy).toContain('billing.onUserRegistered')
      })
    } finally {
      await mongo.close()
    }
  }, 60_000)

  it('outside the monorepo: published versions, nothing wired, and it builds on its own', async () => {
    const before = snapshot()
    const dir = join(outside, 'reports')
    const created = await cli('new', 'reports', '--dir', dir, '--consumes', 'Invoice.issued')
    expect(created.code, created.stderr).toBe(0)
    expect(snapshot()).toEqual(before)
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
      devDependencies: Record<string, string>
      pnpm?: unknown
    }
    expect(pkg.dependencies['@event-driven/core']).toMatch(/^\^\d+\.\d+\.\d+$/)
    expect(pkg.dependencies['@event-driven/service-kit']).toMatch(/^\^\d+\.\d+\.\d+$/)
    expect(Object.keys(pkg.devDependencies)).toEqual(
      expect.arrayContaining(['@event-driven/testing', 'eslint', 'typescript', 'vitest']),
    )
    expect(pkg.devDependencies['@event-driven/testing']).toMatch(/^\^\d+\.\d+\.\d+$/)
    expect(JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8'))).not.toHaveProperty(
      'extends',
    )

    // The framework's packages as the registry would serve them: built and packed, then put
    // in place of the published versions (they are not published yet).
    const packs = join(outside, 'packs')
    for (const name of ['core', 'service-kit', 'testing']) {
      const packageDir = join(workspace, 'packages', name)
      expect((await run('pnpm', ['build'], packageDir)).code).toBe(0)
      expect((await run('pnpm', ['pack', '--pack-destination', packs], packageDir)).code).toBe(0)
    }
    const tarball = (name: string) =>
      `file:${join(
        packs,
        readdirSync(packs).find((f) => f.startsWith(`event-driven-${name}-`))!,
      )}`
    pkg.pnpm = {
      overrides: {
        '@event-driven/core': tarball('core'),
        '@event-driven/service-kit': tarball('service-kit'),
        '@event-driven/testing': tarball('testing'),
      },
    }
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2))
    const installed = await run(
      'pnpm',
      ['install', '--prefer-offline', '--no-frozen-lockfile'],
      dir,
    )
    expect(installed.code, installed.stdout + installed.stderr).toBe(0)
    const lint = await run('pnpm', ['lint'], dir)
    expect(lint.code, lint.stdout + lint.stderr).toBe(0)
    const test = await run('pnpm', ['test'], dir)
    expect(test.code, test.stdout + test.stderr).toBe(0)
    expect(test.stdout).toMatch(/2 passed/)
  }, 120_000)
})
