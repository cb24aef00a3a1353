// Where a service's modules are, for `event-driven add`. A service made by `new` as its own
// package keeps them in `<package>/src/`; a service inside an app in `<app>/src/<name>/`: the
// same files (events.ts, service.ts, handlers/) either way.
import { existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { serviceNamePattern } from '@event-driven/core'
import { ScaffoldError } from './names.ts'
import { frameworkRoot } from './standalone-kit.ts'

export interface ServiceFolderOptions {
  /** The service's folder: its package (with `src/service.ts`) or its folder in an app. */
  dir?: string
  /** A service by name: `./src/<name>` under `cwd`, else `boilerplate/<name>` in the monorepo. */
  service?: string
  /** Where relative paths start. */
  cwd: string
}

const isFile = (path: string) => existsSync(path) && statSync(path).isFile()

/** A folder holds a service when it has both modules the template starts from. */
const holdsService = (folder: string) =>
  isFile(join(folder, 'service.ts')) && isFile(join(folder, 'events.ts'))

/** The nearest folder up from `cwd` with a pnpm-workspace.yaml, else this CLI's own monorepo. */
function monorepoRoot(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir
    if (dirname(dir) === dir) return frameworkRoot
  }
}

/**
 * The folder with the service's service.ts and events.ts. `dir` is either layout; `service` is
 * looked for as `./src/<name>` under `cwd`, then `boilerplate/<name>/src` in the monorepo; with
 * neither, `cwd` itself when it is a service's package. Throws a ScaffoldError naming every
 * place it looked.
 */
export function findServiceFolder(options: ServiceFolderOptions): string {
  const candidates = candidatesFor(options)
  const found = candidates.find(holdsService)
  if (found) return found
  const hint = options.dir || options.service ? '' : '; name it with --service <name> or --dir DIR'
  throw new ScaffoldError(
    `no service found (a folder with service.ts and events.ts): looked in ${candidates.join(', ')}${hint}`,
  )
}

function candidatesFor({ dir, service, cwd }: ServiceFolderOptions): string[] {
  if (dir !== undefined) {
    const folder = resolve(cwd, dir)
    return [folder, join(folder, 'src')]
  }
  if (service !== undefined) {
    if (!serviceNamePattern.test(service)) {
      throw new ScaffoldError(
        `--service: "${service}" is not a service name: lowercase letters, digits and dashes, starting with a letter`,
      )
    }
    const root = monorepoRoot(cwd)
    return [
      join(resolve(cwd), 'src', service),
      ...(root ? [join(root, 'boilerplate', service, 'src')] : []),
    ]
  }
  return [join(resolve(cwd), 'src')]
}
