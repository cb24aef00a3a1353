// A local npm registry for tests: verdaccio on loopback, with its own storage. The framework's
// packages are published to it; every other package is fetched from the machine's registry.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { startProcess, terminalEnv } from '../../packages/testing/src/node-process.ts'
import { freePort } from '../../packages/testing/src/ports.ts'
import { packAll, repoRoot } from './pack.ts'

export interface LocalRegistry {
  url: string
  /** An npm config file with this registry and a token that may publish to it. */
  npmrc: string
  stop(): Promise<void>
}

/**
 * The environment for npm and node in a user's shoes: nothing of this workspace's settings.
 * `E2E_USER_NODE_BIN` (a folder with another `node`, e.g. Node 22) goes first on the PATH, so
 * the user's commands run on that Node while the tests run on the workspace's.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = terminalEnv()
  const nodeBin = process.env.E2E_USER_NODE_BIN
  if (nodeBin) env.PATH = `${nodeBin}${delimiter}${env.PATH ?? ''}`
  return { ...env, ...extra }
}

export async function startLocalRegistry(dir: string): Promise<LocalRegistry> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const upstream = execFileSync('npm', ['config', 'get', 'registry'], {
    encoding: 'utf8',
    env: userEnv(),
  }).trim()
  mkdirSync(join(dir, 'storage'), { recursive: true })
  const config = join(dir, 'verdaccio.yaml')
  writeFileSync(
    config,
    [
      `storage: ${join(dir, 'storage')}`,
      `auth: { htpasswd: { file: ${join(dir, 'htpasswd')} } }`,
      `uplinks: { upstream: { url: '${upstream}', timeout: 120s } }`,
      'packages:',
      // The framework's packages come from here only, never from upstream.
      `  '@event-driven/*': { access: $all, publish: $authenticated }`,
      `  'create-event-driven': { access: $all, publish: $authenticated }`,
      `  '**': { access: $all, proxy: upstream }`,
      'log: { type: stdout, format: pretty, level: warn }',
    ].join('\n'),
  )
  const verdaccio = startProcess(
    join(repoRoot, 'node_modules', '.bin', 'verdaccio'),
    ['--config', config, '--listen', `127.0.0.1:${port}`],
    { env: userEnv() },
  )
  const deadline = Date.now() + 60_000
  for (;;) {
    const ok = await fetch(`${url}/-/ping`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (verdaccio.child.exitCode !== null || Date.now() > deadline) {
      await verdaccio.stop()
      throw new Error(`verdaccio did not start on ${url}:\n${verdaccio.output()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  // A user for publishing (verdaccio registers one on first sign-in).
  const signUp = await fetch(`${url}/-/user/org.couchdb.user:e2e`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'e2e', password: 'e2e-password-1' }),
  })
  const { token } = (await signUp.json()) as { token?: string }
  if (!token) throw new Error(`verdaccio refused the test user: ${signUp.status}`)
  const npmrc = join(dir, '.npmrc')
  writeFileSync(
    npmrc,
    [
      `registry=${url}/`,
      `//127.0.0.1:${port}/:_authToken=${token}`,
      // A cache of its own: the user's npx cache would run a create-event-driven of the same
      // version published by an earlier run, and every run publishes the same versions.
      `cache=${join(dir, 'npm-cache')}`,
      'fund=false',
      'audit=false',
      'update-notifier=false',
    ].join('\n') + '\n',
  )
  return {
    url,
    npmrc,
    stop: async () => {
      await verdaccio.stop()
    },
  }
}

/**
 * Packs every publishable package (built already), starts a local registry in `dir` and
 * publishes them to it, as a release would; returns the registry and the packages' version.
 */
export async function publishLocally(
  dir: string,
): Promise<{ registry: LocalRegistry; version: string }> {
  const packed = packAll(join(dir, 'tarballs'))
  const registry = await startLocalRegistry(join(dir, 'registry'))
  try {
    for (const pkg of packed)
      execFileSync('npm', ['publish', pkg.tarball], {
        env: userEnv({ npm_config_userconfig: registry.npmrc }),
        stdio: 'pipe',
      })
  } catch (error) {
    await registry.stop()
    throw error
  }
  return { registry, version: packed.find((p) => p.name === '@event-driven/core')!.version }
}
