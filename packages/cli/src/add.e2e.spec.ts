import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { runCommand, terminalEnv } from '@event-driven/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { standaloneKit } from './scaffold/standalone-kit.ts'

// `event-driven new` outside the monorepo, then `add event` and `add handler` on what it made, run
// as a user runs them; then the service's own tsc, ESLint, Prettier check and tests. Its packages
// come from this checkout by symbolic links (framework packages resolved to their sources), not
// from an install: seconds instead of the minute the scaffold e2e spends packing and installing.
const repo = join(import.meta.dirname, '..', '..', '..')
const temp = mkdtempSync(join(tmpdir(), 'event-driven-add-e2e-'))
const service = join(temp, 'reports')
afterAll(() => rmSync(temp, { recursive: true, force: true }))

// As in a terminal: without the outer runner's settings (terminalEnv).
const run = (command: string, args: string[], cwd: string) =>
  runCommand(command, args, { cwd, env: terminalEnv({ CI: 'true' }) })
const cli = (cwd: string, ...args: string[]) =>
  run(
    process.execPath,
    ['--conditions=@event-driven/source', join(repo, 'packages/cli/src/main.ts'), ...args],
    cwd,
  )
const node = (script: string, ...args: string[]) =>
  run(process.execPath, [join(service, 'node_modules', script), ...args], service)

/** Where this checkout has each package the service depends on (the CLI's, the blog's, the root's). */
function linkDependencies() {
  const pkg = JSON.parse(readFileSync(join(service, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>
    devDependencies: Record<string, string>
  }
  const from = ['packages/cli', 'boilerplate/blog-service', '.'].map((dir) =>
    join(repo, dir, 'node_modules'),
  )
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
    const found = from.map((dir) => join(dir, name)).find((path) => existsSync(path))
    expect(found, `${name} in this checkout`).toBeDefined()
    mkdirSync(dirname(join(service, 'node_modules', name)), { recursive: true })
    symlinkSync(found!, join(service, 'node_modules', name))
  }
  // The framework's packages to their sources, as the workspace resolves them.
  const tsconfigPath = join(service, 'tsconfig.json')
  const tsconfig = JSON.parse(readFileSync(tsconfigPath, 'utf8')) as {
    compilerOptions: Record<string, unknown>
  }
  tsconfig.compilerOptions.customConditions = ['@event-driven/source']
  writeFileSync(tsconfigPath, `${JSON.stringify(tsconfig, null, 2)}\n`)
  writeFileSync(
    join(service, 'vitest.config.ts'),
    `import { defineConfig } from 'vitest/config'

const conditions = ['@event-driven/source', 'node', 'import', 'development|production']

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@event-driven/source'] } },
  test: { include: ['src/**/*.spec.ts'] },
})
`,
  )
}

describe('event-driven add', () => {
  it('grows a new service by an event and two handlers; it still type-checks, lints and passes its tests', async () => {
    const created = await cli(temp, 'new', 'reports', '--dir', service)
    expect(created.code, created.stderr).toBe(0)

    // From the service's own folder, then from elsewhere with --dir.
    const event = await cli(service, 'add', 'event', 'Report.published')
    expect(event.code, event.stderr).toBe(0)
    expect(event.stdout).toContain(
      'added the event Report.published to the reports service in src:',
    )
    const own = await cli(service, 'add', 'handler', 'Report.published')
    expect(own.code, own.stderr).toBe(0)
    expect(own.stdout).toContain('  created handlers/onReportPublished.ts')
    const other = await cli(temp, 'add', 'handler', 'User.registered', '--dir', service)
    expect(other.code, other.stderr).toBe(0)
    expect(other.stdout).toContain('  changed events.ts')

    const again = await cli(service, 'add', 'handler', 'User.registered')
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('the reports service handles User.registered already')
    expect((await cli(service, 'add', 'event', 'report.published')).code).toBe(1)
    expect((await cli(service, 'add', 'thing', 'Report.published')).code).toBe(2)
    expect((await cli(service, 'add', 'event')).code).toBe(2)

    linkDependencies()
    const tsc = await node('typescript/bin/tsc', '-p', 'tsconfig.json')
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0)
    const eslint = await node('eslint/bin/eslint.js', 'src')
    expect(eslint.code, eslint.stdout + eslint.stderr).toBe(0)
    // Prettier with the settings `new` formats with (a standalone service has no config of its own).
    const settings = join(temp, 'prettier.json')
    writeFileSync(settings, JSON.stringify((await standaloneKit()).prettier))
    const prettier = await run(
      process.execPath,
      [
        join(repo, 'node_modules/prettier/bin/prettier.cjs'),
        '--config',
        settings,
        '--check',
        'src',
      ],
      service,
    )
    expect(prettier.code, prettier.stdout + prettier.stderr).toBe(0)
    const test = await node('vitest/vitest.mjs', 'run')
    expect(test.code, test.stdout + test.stderr).toBe(0)
    expect(test.stdout).toMatch(/Tests\s.*4 passed/)
  }, 60_000)
})
