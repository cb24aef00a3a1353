import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import * as prettier from 'prettier'
import { serviceFiles, type Placement, type Versions } from './files.ts'
import { ScaffoldError, serviceNames, type ServiceNames } from './names.ts'

export interface NewServiceOptions {
  name: string
  /** The service's folder. Default: `boilerplate/<name>` in this monorepo, else `./<name>`. */
  dir?: string
  /** Subjects it publishes (`Entity.verb`, comma-separated or repeated). */
  events?: readonly string[]
  /** Subjects it consumes: a handler and its test for each. */
  consumes?: readonly string[]
  /** Where relative paths start. */
  cwd: string
}

export interface NewServiceResult {
  names: ServiceNames
  dir: string
  placement: Placement['kind']
  files: string[]
  /** Files of the blog service changed to wire the new service in (workspace only). */
  wired: string[]
}

/** The monorepo this CLI belongs to: its packages give the versions a new service uses. */
const frameworkRoot = resolve(import.meta.dirname, '..', '..', '..', '..')
const blogService = join(frameworkRoot, 'boilerplate', 'blog-service')
const registry = join(blogService, 'src', 'services.ts')
const blogPackageJson = join(blogService, 'package.json')

/**
 * Makes a new service. Everything is checked before anything is written; the files are written
 * into a hidden folder beside the target and renamed into place, and wiring into the gateway is
 * undone if it fails, so a refused or failed run leaves the file system as it was.
 */
export async function createNewService(options: NewServiceOptions): Promise<NewServiceResult> {
  const names = serviceNames(options.name, options)
  const dir = resolve(options.cwd, options.dir ?? join(defaultParent(options.cwd), names.name))
  const placement = placementOf(dir)
  if (existsSync(dir))
    throw new ScaffoldError(`${dir} exists already: choose another name or --dir`)
  if (placement.kind === 'workspace') {
    const wiredAlready = (await readFile(registry, 'utf8')).includes(`'${names.packageName}'`)
    if (wiredAlready) {
      throw new ScaffoldError(`a service named ${names.name} is wired into the gateway already`)
    }
  }

  const files = await formatted(serviceFiles(names, placement, versionsFor(placement)))
  const staging = join(dirname(dir), `.${basename(dir)}.new-${randomBytes(4).toString('hex')}`)
  try {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(staging, path)), { recursive: true })
      await writeFile(join(staging, path), content)
    }
    await rename(staging, dir)
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    throw error
  }

  const wired: string[] = []
  if (placement.kind === 'workspace') {
    try {
      wired.push(...(await wireIntoBlogService(names)))
    } catch (error) {
      await rm(dir, { recursive: true, force: true })
      throw error
    }
  }
  return { names, dir, placement: placement.kind, files: Object.keys(files), wired }
}

/** The files as Prettier writes them with the framework's settings, so they pass its lint. */
async function formatted(files: Record<string, string>): Promise<Record<string, string>> {
  const options = await prettier.resolveConfig(join(frameworkRoot, 'package.json'))
  const out: Record<string, string> = {}
  for (const [path, content] of Object.entries(files)) {
    out[path] = await prettier.format(content, { ...options, filepath: path })
  }
  return out
}

/** In this monorepo, new services go under `boilerplate/` (a workspace folder); elsewhere, here. */
function defaultParent(cwd: string): string {
  return isInside(cwd, frameworkRoot) ? join(frameworkRoot, 'boilerplate') : cwd
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path)
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== path)
}

function placementOf(dir: string): Placement {
  if (!isInside(dir, frameworkRoot)) {
    const base = JSON.parse(readFileSync(join(frameworkRoot, 'tsconfig.base.json'), 'utf8')) as {
      compilerOptions: Record<string, unknown>
    }
    return {
      kind: 'standalone',
      compilerOptions: base.compilerOptions,
      eslintConfig: readFileSync(join(frameworkRoot, 'eslint.config.js'), 'utf8'),
    }
  }
  if (dirname(dir) !== join(frameworkRoot, 'boilerplate')) {
    throw new ScaffoldError(
      `inside this monorepo a service goes in boilerplate/<name> (a workspace folder), not ${relative(frameworkRoot, dir)}`,
    )
  }
  return { kind: 'workspace', baseTsconfig: '../../tsconfig.base.json' }
}

function readJson(path: string): {
  version: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
} {
  return JSON.parse(readFileSync(path, 'utf8')) as ReturnType<typeof readJson>
}

/** The workspace's own versions: the framework's packages, and what the blog service uses. */
function versionsFor(placement: Placement): Versions {
  const root = readJson(join(frameworkRoot, 'package.json')).devDependencies ?? {}
  const blog = readJson(blogPackageJson).dependencies ?? {}
  const framework = (pkg: string) =>
    placement.kind === 'workspace'
      ? 'workspace:*'
      : `^${readJson(join(frameworkRoot, 'packages', pkg, 'package.json')).version}`
  const pick = (from: Record<string, string>, keys: string[]) =>
    Object.fromEntries(keys.map((key) => [key, from[key]!]))
  return {
    dependencies: {
      '@event-driven/core': framework('core'),
      '@event-driven/service-kit': framework('service-kit'),
      ...pick(blog, ['pino', 'zod']),
    },
    devDependencies: {
      '@event-driven/testing': framework('testing'),
      ...(placement.kind === 'workspace'
        ? pick(root, ['@types/node', 'typescript', 'vitest'])
        : pick(root, [
            '@eslint/js',
            '@types/node',
            'eslint',
            'typescript',
            'typescript-eslint',
            'vitest',
          ])),
    },
  }
}

/**
 * Adds the service to the blog service: a dependency in its package.json and an entry in
 * `src/services.ts`, whose modules main.ts starts and the gateway serves. Both files are written
 * only once both new contents are ready; returns their paths.
 */
async function wireIntoBlogService(names: ServiceNames): Promise<string[]> {
  const source = await readFile(registry, 'utf8')
  const list = /export const addedServices: ServiceModule\[\] = \[([^\]]*)\]/
  const match = list.exec(source)
  if (!match) {
    throw new ScaffoldError(
      `${registry} no longer has "export const addedServices: ServiceModule[] = [...]"`,
    )
  }
  const entries = [
    ...match[1]!
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean),
    names.camel,
  ]
  // As Prettier writes it: on one line while it fits, else one entry per line.
  const oneLine = `export const addedServices: ServiceModule[] = [${entries.join(', ')}]`
  const declaration =
    oneLine.length <= 100
      ? oneLine
      : `export const addedServices: ServiceModule[] = [\n${entries.map((e) => `  ${e},\n`).join('')}]`
  const importLine = `import { ${names.camel} } from '${names.packageName}'\n`
  const lastImport = source.lastIndexOf('\nimport ')
  const afterImports = source.indexOf('\n', lastImport + 1) + 1
  const nextSource = (
    source.slice(0, afterImports) +
    importLine +
    source.slice(afterImports)
  ).replace(list, declaration)

  const pkgSource = await readFile(blogPackageJson, 'utf8')
  const pkg = JSON.parse(pkgSource) as { dependencies: Record<string, string> }
  pkg.dependencies = Object.fromEntries(
    Object.entries({ ...pkg.dependencies, [names.packageName]: 'workspace:*' }).sort(([a], [b]) =>
      a.localeCompare(b),
    ),
  )
  await writeFile(registry, nextSource)
  try {
    await writeFile(blogPackageJson, `${JSON.stringify(pkg, null, 2)}\n`)
  } catch (error) {
    await writeFile(registry, source)
    throw error
  }
  return [registry, blogPackageJson]
}
