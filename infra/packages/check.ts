// `pnpm lint:packages`: packs every publishable package and checks the tarballs as a registry
// user gets them: publint (package.json against what is inside) and Are the Types Wrong (types
// resolve for every entry under Node's ESM and bundlers; the packages are ESM-only).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { packAll, repoRoot } from './pack.ts'

const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name)
const destination = mkdtempSync(join(tmpdir(), 'event-driven-pack-'))
let failed = 0
try {
  for (const pkg of packAll(destination)) {
    for (const [tool, args] of [
      ['publint', [pkg.tarball, '--strict']],
      ['attw', [pkg.tarball, '--profile', 'esm-only', '--no-color', '--no-emoji']],
    ] as const) {
      try {
        execFileSync(bin(tool), args, { stdio: 'pipe', encoding: 'utf8' })
        console.log(`${tool} ${pkg.name}: ok`)
      } catch (error) {
        failed++
        const { stdout, stderr } = error as { stdout?: string; stderr?: string }
        console.error(`${tool} ${pkg.name}: failed\n${stdout ?? ''}${stderr ?? ''}`)
      }
    }
  }
} finally {
  rmSync(destination, { recursive: true, force: true })
}
process.exitCode = failed === 0 ? 0 : 1
