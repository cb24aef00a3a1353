// The CLI's build: its sources compiled to dist/, then what it reads at run time copied beside
// the compiled modules, so an installed CLI needs no checkout: the service template, the app
// template and the blog's sources (`create`), the standalone kit (versions, TypeScript, ESLint
// and Prettier settings), and the local servers' script (`servers`).
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { isAppSource, listFiles } from '../src/scaffold/app.ts'
import { kitFromRepo } from '../src/scaffold/standalone-kit.ts'

const cli = resolve(import.meta.dirname, '..')
const repo = resolve(cli, '..', '..')
const dist = join(cli, 'dist')
rmSync(dist, { recursive: true, force: true })
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
execFileSync(process.execPath, [tsc, '-p', join(cli, 'tsconfig.build.json')], { stdio: 'inherit' })

const scaffold = join(cli, 'src', 'scaffold')
for (const dir of ['template', 'app-template'])
  cpSync(join(scaffold, dir), join(dist, 'scaffold', dir), { recursive: true })
const blogSource = join(repo, 'boilerplate', 'blog-service', 'src')
for (const path of listFiles(blogSource).filter(isAppSource)) {
  const to = join(dist, 'scaffold', 'blog-src', path)
  mkdirSync(dirname(to), { recursive: true })
  cpSync(join(blogSource, path), to)
}
const kit = await kitFromRepo(repo)
writeFileSync(join(dist, 'scaffold', 'standalone-kit.json'), `${JSON.stringify(kit, null, 2)}\n`)
cpSync(join(repo, 'infra', 'local', 'servers.sh'), join(dist, 'servers', 'servers.sh'))
