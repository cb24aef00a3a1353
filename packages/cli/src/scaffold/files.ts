import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { serviceNames, type ServiceNames } from './names.ts'
import {
  eventPairs,
  renderTemplate,
  replaceNames,
  type Condition,
  type EventList,
  type TemplateContext,
} from './template.ts'

/**
 * Where the service goes decides how it depends on the framework: inside this monorepo on the
 * workspace's packages (`workspace:*`); inside an app made with `event-driven create` as a
 * folder of the app's `src/` (the app's package.json, settings and main.ts serve it); elsewhere
 * on their published versions, with a tsconfig and an ESLint config of its own.
 */
export type Placement =
  | { kind: 'workspace'; baseTsconfig: string }
  | { kind: 'app' }
  | { kind: 'standalone'; compilerOptions: Record<string, unknown>; eslintConfig: string }

/** Versions the new package.json uses: the workspace's own, read when the service is made. */
export interface Versions {
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}

/**
 * The template: a real service, `event-driven new order-history --events Order.archived
 * --consumes Invoice.paid`, under `template/`. It is type-checked, linted and its test run with
 * the framework's own code, so a change in the framework that breaks new services breaks
 * `pnpm lint` first. template.ts says how its names and blocks are rewritten.
 */
const templateDir = join(import.meta.dirname, 'template')
export const templateNames = serviceNames('order-history', {
  events: ['Order.archived'],
  consumes: ['Invoice.paid'],
})

/** The template's files: `each` writes one per event of that list, `when` only if it holds. */
const templateFiles: { path: string; each?: EventList; when?: Condition }[] = [
  // Its own, so that `vitest run` in its folder does not pick up a workspace's config.
  { path: 'vitest.config.ts' },
  { path: 'README.md' },
  { path: 'src/events.ts' },
  { path: 'src/gateway.ts' },
  { path: 'src/service.ts' },
  { path: 'src/main.ts' },
  { path: 'src/received.ts', when: 'consumes' },
  { path: 'src/handlers/onInvoicePaid.ts', each: 'consumes' },
  { path: 'src/handlers/onInvoicePaid.unit.spec.ts', each: 'consumes' },
]

/**
 * The files of a new service, by path. The code is thin on purpose: config, the runtime, RPC
 * and the gateway come from `@event-driven/service-kit`, the code path the blog service's own
 * services run on, so a change there reaches every generated service.
 */
export function serviceFiles(
  names: ServiceNames,
  placement: Placement,
  versions: Versions,
): Record<string, string> {
  const published = new Set(names.publishes.map((e) => e.subject))
  const context: TemplateContext = {
    names,
    lists: {
      publishes: names.publishes,
      consumes: names.consumes,
      consumesFromOthers: names.consumes.filter((e) => !published.has(e.subject)),
    },
    conditions: {
      consumes: names.consumes.length > 0,
      workspace: placement.kind === 'workspace',
      standalone: placement.kind === 'standalone',
    },
  }
  // In an app, the service is its src/ files in a folder of the app's src/, without main.ts:
  // the app's package.json, settings and main.ts serve it.
  if (placement.kind === 'app')
    return renderFiles(context, (path) =>
      path.startsWith('src/') && path !== 'src/main.ts' ? path.slice('src/'.length) : undefined,
    )
  const files: Record<string, string> = {
    'package.json': packageJson(names, placement, versions),
    'tsconfig.json': tsconfig(placement),
    ...renderFiles(context, (path) => path),
  }
  if (placement.kind === 'standalone') files['eslint.config.js'] = placement.eslintConfig
  // In the workspace, its tests resolve the framework's packages to their sources, as the root's.
  else files['vitest.config.ts'] = workspaceVitestConfig
  return files
}

/** The template's files that `target` keeps (by the path it gives them), rendered. */
function renderFiles(
  context: TemplateContext,
  target: (templatePath: string) => string | undefined,
): Record<string, string> {
  const files: Record<string, string> = {}
  for (const file of templateFiles) {
    const path = target(file.path)
    if (path === undefined || (file.when && !context.conditions[file.when])) continue
    const source = readFileSync(join(templateDir, file.path), 'utf8')
    if (!file.each) {
      files[path] = renderTemplate(source, context, templateNames)
      continue
    }
    for (const event of context.lists[file.each]) {
      const pairs = eventPairs(templateNames, file.each, event)
      files[replaceNames(path, pairs)] = renderTemplate(source, context, templateNames, pairs)
    }
  }
  return files
}

const workspaceVitestConfig = `import { defineConfig } from 'vitest/config'
import { workspaceResolve } from '../../vitest.workspace-resolve.ts'

export default defineConfig({ ...workspaceResolve, test: { include: ['src/**/*.spec.ts'] } })
`

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

/** A service that is a package of its own. */
type PackagePlacement = Exclude<Placement, { kind: 'app' }>

function packageJson(names: ServiceNames, placement: PackagePlacement, versions: Versions): string {
  return json({
    name: names.packageName,
    version: '0.1.0',
    private: true,
    description: `The ${names.name} service (made with event-driven new)`,
    type: 'module',
    exports: { '.': './src/service.ts' },
    scripts: {
      start: 'node src/main.ts',
      build: 'tsc -p tsconfig.json',
      lint: 'tsc -p tsconfig.json && eslint src',
      test: 'vitest run',
    },
    dependencies: versions.dependencies,
    devDependencies: versions.devDependencies,
    ...(placement.kind === 'standalone' ? { engines: { node: '>=22.18' } } : {}),
  })
}

function tsconfig(placement: PackagePlacement): string {
  return placement.kind === 'workspace'
    ? json({
        extends: placement.baseTsconfig,
        compilerOptions: { noEmit: true },
        include: ['src', 'vitest.config.ts'],
      })
    : json({
        compilerOptions: { ...placement.compilerOptions, noEmit: true },
        include: ['src', 'vitest.config.ts'],
      })
}
