import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import * as prettier from 'prettier'
import { serviceFiles, type Placement, type Versions } from './files.ts'
import { frameworkRoot, kitFromRepo, standaloneKit } from './standalone-kit.ts'
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

const blogService = (root: string) => join(root, 'boilerplate', 'blog-service')
const servicesList = (root: string) => join(blogService(root), 'src', 'services.ts')
const blogPackageJson = (root: string) => join(blogService(root), 'package.json')

/**
 * Makes a new service. Everything is checked before anything is written; the files are written
 * into a hidden folder beside the target and renamed into place, and wiring into the gateway is
 * undone if it fails, so a refused or failed run leaves the file system as it was.
 */
export async function createNewService(options: NewServiceOptions): Promise<NewServiceResult> {
  const names = serviceNames(options.name, options)
  const dir = resolve(options.cwd, options.dir ?? join(defaultParent(options.cwd), names.name))
  const { placement, versions, prettier: formatting } = await placementOf(dir)
  if (existsSync(dir))
    throw new ScaffoldError(`${dir} exists already: choose another name or --dir`)
  if (placement.kind === 'workspace') {
    const wiredAlready = (await readFile(servicesList(frameworkRoot!), 'utf8')).includes(
      `'${names.packageName}'`,
    )
    if (wiredAlready) {
      throw new ScaffoldError(`a service named ${names.name} is wired into the gateway already`)
    }
  }

  const files = await formatted(serviceFiles(names, placement, versions), formatting)
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
      wired.push(...(await wireIntoBlogService(names, frameworkRoot!)))
    } catch (error) {
      await rm(dir, { recursive: true, force: true })
      throw error
    }
  }
  return { names, dir, placement: placement.kind, files: Object.keys(files), wired }
}

/** The files as Prettier writes them with the framework's settings, so they pass its lint. */
async function formatted(
  files: Record<string, string>,
  options: prettier.Options,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const [path, content] of Object.entries(files)) {
    out[path] = await prettier.format(content, { ...options, filepath: path })
  }
  return out
}

/** In this monorepo, new services go under `boilerplate/` (a workspace folder); elsewhere, here. */
function defaultParent(cwd: string): string {
  return frameworkRoot && isInside(cwd, frameworkRoot) ? join(frameworkRoot, 'boilerplate') : cwd
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path)
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== path)
}

/** Where the service goes, and what it is given there: the versions, settings and formatting. */
async function placementOf(
  dir: string,
): Promise<{ placement: Placement; versions: Versions; prettier: prettier.Options }> {
  if (!frameworkRoot || !isInside(dir, frameworkRoot)) {
    const kit = await standaloneKit()
    return {
      placement: {
        kind: 'standalone',
        compilerOptions: kit.compilerOptions,
        eslintConfig: kit.eslintConfig,
      },
      versions: kit.versions,
      prettier: kit.prettier,
    }
  }
  if (dirname(dir) !== join(frameworkRoot, 'boilerplate')) {
    throw new ScaffoldError(
      `inside this monorepo a service goes in boilerplate/<name> (a workspace folder), not ${relative(frameworkRoot, dir)}`,
    )
  }
  const kit = await kitFromRepo(frameworkRoot)
  return {
    placement: { kind: 'workspace', baseTsconfig: '../../tsconfig.base.json' },
    versions: inWorkspace(kit.versions),
    prettier: kit.prettier,
  }
}

/**
 * A service in this monorepo takes the framework's packages from the workspace, the rest at the
 * standalone versions; its lint and format tools are the workspace's, so of those it needs only
 * what its own scripts run.
 */
function inWorkspace({ dependencies, devDependencies }: Versions): Versions {
  const fromWorkspace = (deps: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(deps).map(([name, range]) => [
        name,
        name.startsWith('@event-driven/') ? 'workspace:*' : range,
      ]),
    )
  const ownTools = ['@event-driven/testing', '@types/node', 'typescript', 'vitest']
  return {
    dependencies: fromWorkspace(dependencies),
    devDependencies: fromWorkspace(
      Object.fromEntries(
        Object.entries(devDependencies).filter(([name]) => ownTools.includes(name)),
      ),
    ),
  }
}

/**
 * Adds the service to the blog service: a dependency in its package.json and an entry in
 * `src/services.ts`, whose modules main.ts starts and the gateway serves. Both files are written
 * only once both new contents are ready; returns their paths.
 */
async function wireIntoBlogService(names: ServiceNames, root: string): Promise<string[]> {
  const registry = servicesList(root)
  const packageJsonPath = blogPackageJson(root)
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

  const pkgSource = await readFile(packageJsonPath, 'utf8')
  const pkg = JSON.parse(pkgSource) as { dependencies: Record<string, string> }
  pkg.dependencies = Object.fromEntries(
    Object.entries({ ...pkg.dependencies, [names.packageName]: 'workspace:*' }).sort(([a], [b]) =>
      a.localeCompare(b),
    ),
  )
  await writeFile(registry, nextSource)
  try {
    await writeFile(packageJsonPath, `${JSON.stringify(pkg, null, 2)}\n`)
  } catch (error) {
    await writeFile(registry, source)
    throw error
  }
  return [registry, packageJsonPath]
}
