import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createApp, isAppSource } from './app.ts'
import { appRootOf, createNewService } from './create.ts'
import { ScaffoldError } from './names.ts'
import { frameworkRoot } from './standalone-kit.ts'

let work: string
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'event-driven-app-'))
})
afterEach(() => rmSync(work, { recursive: true, force: true }))

const read = (...path: string[]) => readFileSync(join(work, ...path), 'utf8')
const packageJson = (...path: string[]) =>
  JSON.parse(read(...path, 'package.json')) as {
    name: string
    scripts: Record<string, string>
    dependencies: Record<string, string>
    devDependencies: Record<string, string>
  }

describe('event-driven create', () => {
  it('makes the blog app: its services, an empty list of added ones, settings and secrets of its own', async () => {
    const { files } = await createApp({ name: 'my-app', cwd: work })
    expect(files).toEqual(
      expect.arrayContaining([
        '.env',
        '.gitignore',
        'README.md',
        'docker-compose.yml',
        'eslint.config.js',
        'tsconfig.json',
        'vitest.config.ts',
        'src/main.ts',
        'src/app.int.spec.ts',
        'src/users/service.ts',
        'src/services.ts',
      ]),
    )
    // Not the monorepo's end-to-end tests and their harness.
    expect(files.filter((f) => f.includes('e2e') || f.startsWith('src/testing/'))).toEqual([])
    expect(read('my-app', 'src', 'services.ts')).toContain(
      'export const addedServices: ServiceModule[] = []',
    )
    const pkg = packageJson('my-app')
    expect(pkg.name).toBe('my-app')
    expect(pkg.scripts.start).toBe('node --env-file=.env src/main.ts')
    const core = JSON.parse(
      readFileSync(join(frameworkRoot!, 'packages', 'core', 'package.json'), 'utf8'),
    ) as { version: string }
    for (const name of ['@event-driven/core', '@event-driven/service-kit'])
      expect(pkg.dependencies[name]).toBe(`^${core.version}`)
    expect(pkg.devDependencies['@event-driven/cli']).toBe(`^${core.version}`)
    // Every package the app's sources import is one it depends on.
    const imported = new Set(
      files
        .filter((f) => f.endsWith('.ts'))
        .flatMap((f) => [...read('my-app', f).matchAll(/from '([^'.][^']*)'/g)].map((m) => m[1]!))
        .filter((spec) => !spec.startsWith('node:'))
        .map((spec) =>
          spec
            .split('/')
            .slice(0, spec.startsWith('@') ? 2 : 1)
            .join('/'),
        ),
    )
    const declared = { ...pkg.dependencies, ...pkg.devDependencies }
    expect([...imported].filter((name) => !(name in declared))).toEqual([])

    // Secrets are made per app, never shipped.
    const secrets = (env: string) => env.match(/^(AUTH_SECRET|ADMIN_API_KEYS)=.*$/gm)
    await createApp({ name: 'other', cwd: work })
    expect(secrets(read('my-app', '.env'))).toHaveLength(2)
    expect(secrets(read('other', '.env'))).not.toEqual(secrets(read('my-app', '.env')))
    expect(read('my-app', '.gitignore')).toMatch(/^\.env$/m)
  })

  it('makes a minimal app: one service that handles the event it publishes, with its test', async () => {
    const { files } = await createApp({ name: 'solo', minimal: true, cwd: work })
    expect(files).toEqual(
      expect.arrayContaining([
        '.env',
        'README.md',
        'src/main.ts',
        'src/handlers/onSoloRecorded.ts',
        'src/handlers/onSoloRecorded.unit.spec.ts',
      ]),
    )
    const pkg = packageJson('solo')
    expect(pkg.scripts.start).toBe('node --env-file=.env src/main.ts')
    expect(pkg.devDependencies['@event-driven/cli']).toBeDefined()
    expect(read('solo', 'README.md')).toContain('npx event-driven servers up && npm start')
  })

  it('refuses a bad name, a folder that is not empty, and the monorepo; writing nothing', async () => {
    for (const name of ['My-App', '../up', '', '-x', 'a/b', 'x'.repeat(101)])
      await expect(createApp({ name, cwd: work })).rejects.toThrow(ScaffoldError)
    mkdirSync(join(work, 'taken', 'something'), { recursive: true })
    await expect(createApp({ name: 'taken', cwd: work })).rejects.toThrow(/not empty/)
    await expect(
      createApp({ name: 'inside', cwd: join(frameworkRoot!, 'boilerplate') }),
    ).rejects.toThrow(/outside the event-driven monorepo/)
    expect(readdirSync(work)).toEqual(['taken'])
    expect(existsSync(join(frameworkRoot!, 'boilerplate', 'inside'))).toBe(false)
  })

  it('takes an empty folder given as --dir', async () => {
    mkdirSync(join(work, 'empty'))
    await createApp({ name: 'my-app', dir: 'empty', cwd: work })
    expect(packageJson('empty').name).toBe('my-app')
    expect(readdirSync(work).filter((f) => f.startsWith('.'))).toEqual([])
  })
})

describe('event-driven new inside an app', () => {
  it('puts the service in src/<name> and wires it into src/services.ts', async () => {
    await createApp({ name: 'my-app', cwd: work })
    const app = join(work, 'my-app')
    expect(appRootOf(join(app, 'src', 'users'))).toBe(app)
    const result = await createNewService({
      name: 'billing',
      consumes: ['User.registered'],
      cwd: join(app, 'src'),
    })
    expect(result.placement).toBe('app')
    expect(result.dir).toBe(join(app, 'src', 'billing'))
    expect(result.files.sort()).toEqual([
      'events.ts',
      'gateway.ts',
      'handlers/onUserRegistered.ts',
      'handlers/onUserRegistered.unit.spec.ts',
      'received.ts',
      'service.ts',
    ])
    const services = read('my-app', 'src', 'services.ts')
    expect(services).toContain("import { billing } from './billing/service.ts'")
    expect(services).toContain('export const addedServices: ServiceModule[] = [billing]')
    await expect(
      createNewService({ name: 'billing', dir: 'src/billing2', cwd: app }),
    ).rejects.toThrow(/wired into the gateway already/)
  })

  it('is not an app without the list of added services', () => {
    expect(appRootOf(work)).toBeUndefined()
    expect(isAppSource('testing/flow.ts')).toBe(false)
    expect(isAppSource('flow.e2e.spec.ts')).toBe(false)
    expect(isAppSource('app.int.spec.ts')).toBe(true)
  })
})
