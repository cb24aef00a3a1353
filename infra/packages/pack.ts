// Packs every publishable package (packages/* that are not private) with pnpm, as a release
// would: `workspace:` ranges become the versions, `files` decides what is inside. The builds
// must be current (`pnpm build`); a package whose exports point at a missing build is refused.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const repoRoot = resolve(import.meta.dirname, '..', '..')

export interface PublishablePackage {
  name: string
  version: string
  dir: string
  /** What its `exports` and `bin` point at, installed: its build. */
  builtFiles: string[]
}

interface PackageJson {
  name: string
  version: string
  private?: boolean
  exports?: Record<string, string | { default: string }>
  bin?: Record<string, string>
}

export function publishablePackages(): PublishablePackage[] {
  const packagesDir = join(repoRoot, 'packages')
  return readdirSync(packagesDir).flatMap((entry) => {
    const dir = join(packagesDir, entry)
    if (!existsSync(join(dir, 'package.json'))) return []
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson
    const builtFiles = [
      ...Object.values(pkg.exports ?? {}).flatMap((entry) =>
        typeof entry === 'string' ? [] : [entry.default],
      ),
      ...Object.values(pkg.bin ?? {}),
    ].map((file) => join(dir, file))
    return pkg.private ? [] : [{ name: pkg.name, version: pkg.version, dir, builtFiles }]
  })
}

/** Packs each package into `destination`; returns each package with its tarball's path. */
export function packAll(destination: string): (PublishablePackage & { tarball: string })[] {
  mkdirSync(destination, { recursive: true })
  return publishablePackages().map((pkg) => {
    const missing = pkg.builtFiles.filter((file) => !existsSync(file))
    if (missing.length > 0)
      throw new Error(`${pkg.name} is not built (no ${missing.join(', ')}): run pnpm build`)
    const out = execFileSync('pnpm', ['pack', '--pack-destination', destination], {
      cwd: pkg.dir,
      encoding: 'utf8',
    })
    const tarball = out.trim().split('\n').at(-1)!.trim()
    return { ...pkg, tarball: resolve(pkg.dir, tarball) }
  })
}
