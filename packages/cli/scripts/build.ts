// The CLI's build: its sources compiled to dist/, then what `event-driven new` reads at run time
// copied beside the compiled scaffold (the service template, and the standalone kit: versions,
// TypeScript, ESLint and Prettier settings), so an installed CLI needs no checkout.
import { execFileSync } from 'node:child_process'
import { cpSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { kitFromRepo } from '../src/scaffold/standalone-kit.ts'

const cli = resolve(import.meta.dirname, '..')
const dist = join(cli, 'dist')
rmSync(dist, { recursive: true, force: true })
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
execFileSync(process.execPath, [tsc, '-p', join(cli, 'tsconfig.build.json')], { stdio: 'inherit' })
cpSync(join(cli, 'src', 'scaffold', 'template'), join(dist, 'scaffold', 'template'), {
  recursive: true,
})
const kit = await kitFromRepo(resolve(cli, '..', '..'))
writeFileSync(join(dist, 'scaffold', 'standalone-kit.json'), `${JSON.stringify(kit, null, 2)}\n`)
