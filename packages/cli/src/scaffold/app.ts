import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { createNewService, isInside } from './create.ts'
import { ScaffoldError, serviceNames } from './names.ts'
import { frameworkRoot, standaloneKit } from './standalone-kit.ts'

/**
 * An app: the blog boilerplate (users, blogs and comments services behind a graphql-yoga gateway,
 * the dashboard, a webhook and a timer) as a project of its own, on the published packages; or,
 * `minimal`, one service with its own gateway. `npm create event-driven` runs this.
 */
export interface NewAppOptions {
  /** Its folder's and package's name: lowercase letters, digits, `-`, `.`, `_`. */
  name: string
  /** Its folder, from `cwd`. Default: `./<name>`. */
  dir?: string
  /** One service made from the service template instead of the blog's three. */
  minimal?: boolean
  cwd: string
}

export interface NewAppResult {
  dir: string
  files: string[]
}

const appNamePattern = /^[a-z0-9][a-z0-9._-]{0,99}$/

/** The app's own files (README, compose, test settings): beside this module, in src and dist. */
const appTemplateDir = join(import.meta.dirname, 'app-template')

/** The blog's sources: the monorepo's own from a checkout; the build ships a copy. */
const blogSourceDir = frameworkRoot
  ? join(frameworkRoot, 'boilerplate', 'blog-service', 'src')
  : join(import.meta.dirname, 'blog-src')

/**
 * Which of the blog's sources an app gets: its code and its in-process test, not the monorepo's
 * end-to-end tests and their harness (they start checkouts and browsers), nor its list of added
 * services (an app starts with none).
 */
export function isAppSource(path: string): boolean {
  const parts = path.split(/[\\/]/)
  return (
    parts[0] !== 'testing' &&
    !path.endsWith('.e2e.spec.ts') &&
    path !== 'services.ts' &&
    /\.(ts|md)$/.test(path)
  )
}

/** Paths under `dir` (relative, with `/`), recursively. */
export function listFiles(dir: string, under = ''): string[] {
  return readdirSync(join(dir, under), { withFileTypes: true }).flatMap((entry) => {
    const path = under ? `${under}/${entry.name}` : entry.name
    return entry.isDirectory() ? listFiles(dir, path) : [path]
  })
}

const emptyServicesList = `// Services added with \`npx event-driven new <name>\`: main.ts starts them beside users, blogs
// and comments, and the gateway serves their schema pieces. The generator adds each import and entry.
import type { ServiceModule } from '@event-driven/service-kit'

export const addedServices: ServiceModule[] = []
`

/**
 * Makes an app. Everything is checked before anything is written; the files are written into a
 * hidden folder beside the target and renamed into place, so a refused or failed run leaves
 * nothing behind.
 */
export async function createApp(options: NewAppOptions): Promise<NewAppResult> {
  if (!appNamePattern.test(options.name))
    throw new ScaffoldError(
      `app name "${options.name}": 1 to 100 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit`,
    )
  const dir = resolve(options.cwd, options.dir ?? options.name)
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new ScaffoldError(`${dir} exists and is not empty: choose another name or --dir`)
  if (frameworkRoot && isInside(dir, frameworkRoot))
    throw new ScaffoldError(
      `an app is a project of its own: make it outside the event-driven monorepo, not in ${dir}`,
    )
  return options.minimal ? minimalApp(options.name, dir) : blogApp(options.name, dir)
}

async function blogApp(name: string, dir: string): Promise<NewAppResult> {
  const kit = await standaloneKit()
  const files: Record<string, string> = {}
  for (const path of listFiles(blogSourceDir).filter(isAppSource))
    files[`src/${path}`] = readFileSync(join(blogSourceDir, path), 'utf8')
  files['src/services.ts'] = emptyServicesList
  Object.assign(
    files,
    await templateFiles(name, { 'README.md': 'README.md', 'vitest.config.ts': 'vitest.config.ts' }),
  )
  Object.assign(files, commonFiles(name))
  files['package.json'] = json({
    name,
    version: '0.1.0',
    private: true,
    description: 'Event-driven services on NATS JetStream and MongoDB (made with event-driven)',
    type: 'module',
    engines: { node: '>=22.18' },
    scripts: {
      start: 'node --env-file=.env src/main.ts',
      test: 'vitest run',
      lint: 'tsc -p tsconfig.json && eslint .',
    },
    dependencies: sorted(kit.appVersions.dependencies),
    devDependencies: sorted(kit.appVersions.devDependencies),
  })
  files['tsconfig.json'] = json({
    compilerOptions: { ...kit.compilerOptions, noEmit: true },
    include: ['src', 'vitest.config.ts'],
  })
  files['eslint.config.js'] = kit.eslintConfig
  await writeAll(dir, files)
  return { dir, files: Object.keys(files).sort() }
}

/** One service from the service template (its main.ts runs it with a gateway), as an app. */
async function minimalApp(name: string, dir: string): Promise<NewAppResult> {
  const serviceName = name.replace(/[._]/g, '-').replace(/^[^a-z]+/, '') || 'app'
  if (existsSync(dir)) await rmdir(dir) // empty: checked by createApp
  // It handles the event it publishes: one mutation shows a whole chain, and a handler its test.
  const event = serviceNames(serviceName, {}).publishes[0]!.subject
  const made = await createNewService({
    name: serviceName,
    dir,
    cwd: dirname(dir),
    events: [event],
    consumes: [event],
  })
  try {
    const extra = {
      ...commonFiles(name),
      // The app's README (servers first, then the service) in place of the service's.
      ...(await templateFiles(name, { 'README.minimal.md': 'README.md' })),
    }
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
      name: string
      scripts: Record<string, string>
      devDependencies: Record<string, string>
    }
    pkg.name = name
    // `npx event-driven …` (servers, add, new) runs the CLI this app was made with.
    const kit = await standaloneKit()
    pkg.devDependencies = sorted({
      ...pkg.devDependencies,
      '@event-driven/cli': kit.appVersions.devDependencies['@event-driven/cli']!,
    })
    pkg.scripts.start = 'node --env-file=.env src/main.ts'
    extra['package.json'] = json(pkg)
    for (const [path, content] of Object.entries(extra)) await writeFile(join(dir, path), content)
    return { dir, files: [...new Set([...made.files, ...Object.keys(extra)])].sort() }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

/** Files every app has: its development settings, what git ignores, Docker's servers. */
function commonFiles(name: string): Record<string, string> {
  const secret = () => randomBytes(24).toString('base64url')
  return {
    '.gitignore': readFileSync(join(appTemplateDir, 'gitignore'), 'utf8'),
    'docker-compose.yml': readFileSync(join(appTemplateDir, 'docker-compose.yml'), 'utf8').replace(
      /^name: my-app$/m,
      `name: ${name.replace(/[^a-z0-9_-]/g, '-')}`,
    ),
    '.env': [
      '# Development settings: npm start (node --env-file=.env) and npm test read them. Variables',
      '# set in the environment win. The secrets were made for this app: keep this file out of git',
      '# (.gitignore does) and give production its own.',
      'NODE_ENV=development',
      '# The local servers: `npx event-driven servers up`, or `docker compose up -d`.',
      'NATS_URL=nats://127.0.0.1:4222',
      'MONGODB_URL=mongodb://127.0.0.1:27017/?directConnection=true',
      'S3_URL=http://127.0.0.1:7070',
      'S3_REGION=us-east-1',
      'S3_ACCESS_KEY_ID=test',
      'S3_SECRET_ACCESS_KEY=testsecret',
      '# Signs login tokens.',
      `AUTH_SECRET=${secret()}`,
      '# The dashboard and admin API on http://127.0.0.1:4001: sign in with the part after "admin:".',
      `ADMIN_API_KEYS=admin:${secret()}`,
      '# The moderation webhook signs with a public development secret here (src/send-webhook.ts',
      '# uses it too); production must set its own: WEBHOOK_SECRET_MODERATION=whsec_<base64>.',
      '',
    ].join('\n'),
  }
}

/**
 * Files of the app template (template path → app path), with the template's name (`my-app`)
 * replaced by the app's.
 */
async function templateFiles(
  name: string,
  paths: Record<string, string>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const [from, to] of Object.entries(paths))
    out[to] = (await readFile(join(appTemplateDir, from), 'utf8')).replaceAll('my-app', name)
  return out
}

/** Writes the files into a hidden folder beside `dir`, then renames it into place. */
async function writeAll(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dirname(dir), { recursive: true })
  const staging = join(dirname(dir), `.${basename(dir)}.new-${randomBytes(4).toString('hex')}`)
  try {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(staging, path)), { recursive: true })
      await writeFile(join(staging, path), content)
    }
    // An empty folder given as --dir is replaced by the new one.
    if (existsSync(dir)) await rmdir(dir)
    await rename(staging, dir)
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    throw error
  }
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

function sorted(deps: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)))
}
