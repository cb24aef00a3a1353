// `pnpm try:app [dir]`: what `npm create event-driven@latest` will do after a release, today.
// Builds and packs every package, publishes them to a local registry (verdaccio on loopback),
// makes an app with `npm create event-driven` from it and installs it, then stops the registry.
// The app is a project of its own, outside this repository: default <tmp>/my-app-<random>.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { publishLocally, userEnv } from './local-registry.ts'
import { repoRoot } from './pack.ts'

const dir = resolve(
  process.argv[2] ?? join(mkdtempSync(join(tmpdir(), 'event-driven-app-')), 'my-app'),
)
const step = (text: string) => console.error(`[try:app] ${text}`)

step('building the packages (pnpm build)')
try {
  execFileSync('pnpm', ['build'], { cwd: repoRoot, stdio: 'pipe', encoding: 'utf8' })
} catch (error) {
  // tsc reports on stdout: show both streams, then stop.
  const { stdout, stderr } = error as { stdout?: string; stderr?: string }
  process.stderr.write(`${stdout ?? ''}${stderr ?? ''}`)
  step('pnpm build failed (above); nothing was published')
  process.exit(1)
}
const work = mkdtempSync(join(tmpdir(), 'event-driven-registry-'))
step('publishing them to a local registry')
const { registry, version } = await publishLocally(work)
try {
  const npm = (cwd: string, args: string[]) =>
    execFileSync('npm', args, {
      cwd,
      env: userEnv({ npm_config_userconfig: registry.npmrc }),
      stdio: ['ignore', 'inherit', 'inherit'],
    })
  step(`npm create event-driven@${version} ${dir}`)
  mkdirSync(dirname(dir), { recursive: true })
  npm(dirname(dir), ['create', '--yes', `event-driven@${version}`, basename(dir)])
  // No lockfile: it would name the local registry, which stops when this script ends.
  step('npm install --no-package-lock (from the local registry)')
  npm(dir, ['install', '--no-package-lock'])
} finally {
  await registry.stop()
  rmSync(work, { recursive: true, force: true })
}
console.log(
  `\nThe app is in ${dir}:\n  cd ${dir}\n  npx event-driven servers up && npm start\n  npm test`,
)
