import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
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
const blogPackageJson = (root: string) => join(blogService(root), 'package.json')

/** The list of services `event-driven new` adds to: in the blog service, and in every app. */
const servicesFileOf = (projectRoot: string) => join(projectRoot, 'src', 'services.ts')
const servicesList = /export const addedServices: ServiceModule\[\] = \[([^\]]*)\]/

/**
 * The app (made with `event-driven create`) that `cwd` is in: the folder of the nearest
 * package.json, when its `src/services.ts` holds the list of added services.
 */
export function appRootOf(cwd: string): string | undefined {
  let dir = resolve(cwd)
  while (!existsSync(join(dir, 'package.json'))) {
    if (dirname(dir) === dir) return undefined
    dir = dirname(dir)
  }
  const services = servicesFileOf(dir)
  return existsSync(services) && servicesList.test(readFileSync(services, 'utf8')) ? dir : undefined
}

/**
 * Makes a new service. Everything is checked before anything is written; the files are written
 * into a hidden folder beside the target and renamed into place, and wiring into the gateway is
 * undone if it fails, so a refused or failed run leaves the file system as it was.
 */
export async function createNewService(options: NewServiceOptions): Promise<NewServiceResult> {
  const names = serviceNames(options.name, options)
  const app =
    frameworkRoot && isInside(options.cwd, frameworkRoot) ? undefined : appRootOf(options.cwd)
  const dir = resolve(options.cwd, options.dir ?? join(defaultParent(options.cwd, app), names.name))
  const { placement, versions, prettier: formatting } = await placementOf(dir, app)
  if (existsSync(dir))
    throw new ScaffoldError(`${dir} exists already: choose another name or --dir`)
  const wiring = wiringOf(placement, names, app)
  if (wiring && (await readFile(wiring.servicesFile, 'utf8')).includes(`'${wiring.from}'`)) {
    throw new ScaffoldError(`a service named ${names.name} is wired into the gateway already`)
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
  if (wiring) {
    try {
      wired.push(...(await wireIn(names, wiring)))
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

/**
 * In this monorepo, new services go under `boilerplate/` (a workspace folder); in an app, under
 * its `src/`; elsewhere, here.
 */
function defaultParent(cwd: string, app: string | undefined): string {
  if (frameworkRoot && isInside(cwd, frameworkRoot)) return join(frameworkRoot, 'boilerplate')
  return app ? join(app, 'src') : cwd
}

/** True when `path` is `root` or under it. */
export function isInside(path: string, root: string): boolean {
  const rel = relative(root, path)
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== path)
}

/** Where the service goes, and what it is given there: the versions, settings and formatting. */
async function placementOf(
  dir: string,
  app: string | undefined,
): Promise<{ placement: Placement; versions: Versions; prettier: prettier.Options }> {
  if (!frameworkRoot || !isInside(dir, frameworkRoot)) {
    const kit = await standaloneKit()
    // A folder of the app's src/: the app's package.json and main.ts serve it.
    if (app && dirname(dir) === join(app, 'src'))
      return { placement: { kind: 'app' }, versions: kit.appVersions, prettier: kit.prettier }
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
 * Where a new service is wired in: the list of added services (main.ts starts them, the gateway
 * serves them) and, in the workspace, the blog service's package.json that depends on it.
 */
interface Wiring {
  servicesFile: string
  /** What the list imports the service from. */
  from: string
  packageJson?: string
}

function wiringOf(
  placement: Placement,
  names: ServiceNames,
  app: string | undefined,
): Wiring | undefined {
  if (placement.kind === 'workspace')
    return {
      servicesFile: servicesFileOf(blogService(frameworkRoot!)),
      from: names.packageName,
      packageJson: blogPackageJson(frameworkRoot!),
    }
  if (placement.kind === 'app')
    return { servicesFile: servicesFileOf(app!), from: `./${names.name}/service.ts` }
  return undefined
}

/**
 * Adds the service to the list of added services (an import and an entry) and, in the
 * workspace, a dependency to the blog's package.json. Both files are written only once both new
 * contents are ready; returns their paths.
 */
async function wireIn(names: ServiceNames, wiring: Wiring): Promise<string[]> {
  const registry = wiring.servicesFile
  const source = await readFile(registry, 'utf8')
  const match = servicesList.exec(source)
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
  const importLine = `import { ${names.camel} } from '${wiring.from}'\n`
  const lastImport = source.lastIndexOf('\nimport ')
  const afterImports = source.indexOf('\n', lastImport + 1) + 1
  const nextSource = (
    source.slice(0, afterImports) +
    importLine +
    source.slice(afterImports)
  ).replace(servicesList, declaration)
  if (!wiring.packageJson) {
    await writeFile(registry, nextSource)
    return [registry]
  }

  const packageJsonPath = wiring.packageJson
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
