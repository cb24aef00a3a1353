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
}

export function publishablePackages(): PublishablePackage[] {
  const packagesDir = join(repoRoot, 'packages')
  return readdirSync(packagesDir)
    .map((entry) => join(packagesDir, entry))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({
      dir,
      ...(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name: string
        version: string
        private?: boolean
      }),
    }))
    .filter((pkg) => !('private' in pkg && pkg.private))
    .map(({ name, version, dir }) => ({ name, version, dir }))
}

/** Packs each package into `destination`; returns each package with its tarball's path. */
export function packAll(destination: string): (PublishablePackage & { tarball: string })[] {
  mkdirSync(destination, { recursive: true })
  return publishablePackages().map((pkg) => {
    const built = join(pkg.dir, pkg.name === '@event-driven/dashboard' ? 'lib' : 'dist')
    if (!existsSync(built)) throw new Error(`${pkg.name} is not built (${built}): run pnpm build`)
    const out = execFileSync('pnpm', ['pack', '--pack-destination', destination], {
      cwd: pkg.dir,
      encoding: 'utf8',
    })
    const tarball = out.trim().split('\n').at(-1)!.trim()
    return { ...pkg, tarball: resolve(pkg.dir, tarball) }
  })
}
