// event-driven servers up|down|status|env: the local servers the framework's own tests run on
// (nats-server with JetStream, FerretDB on PostgreSQL, versitygw for S3), for an app made
// outside the monorepo. It runs the same script as the monorepo's `pnpm infra:up`, shipped in
// this package.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { frameworkRoot } from './scaffold/standalone-kit.ts'
import type { Io } from './settings.ts'

const subcommands = ['up', 'down', 'status', 'env'] as const

const usage = `usage: event-driven servers up [--cluster]|down|status|env

  up       builds what is missing (once: Go >= 1.24 and PostgreSQL are needed; the builds are
           cached in ~/.cache/event-driven), starts what is not running, and prints NATS_URL,
           MONGODB_URL and S3_* lines (also in .event-driven/servers/servers.env). An app's .env
           names the usual ports; on other ports, set the variables it prints
           --cluster: three nats-servers as one JetStream cluster (4222-4224, routes 6222-6224);
           NATS_URL names all three: set it in .env, and EVENTS_STREAM_REPLICAS=3
  down     stops what up started (by the pids it recorded)
  status   says what runs (exit 0 when all of it does)
  env      prints the KEY=value lines without starting anything

Everything listens on 127.0.0.1: NATS 4222 (monitoring 8222), MongoDB 27017, S3 7070,
PostgreSQL 5433. Other ports: ED_NATS_PORT, ED_NATS_MONITOR_PORT, ED_MONGODB_PORT, ED_S3_PORT,
ED_POSTGRES_PORT. Data and logs: .event-driven/servers/ beside the nearest package.json
(ED_INFRA_DIR to change). Needs bash (on Windows: WSL). With Docker, docker compose up works too.`

/** The servers script: the monorepo's own from a checkout, the copy its build ships otherwise. */
export const serversScript = frameworkRoot
  ? join(frameworkRoot, 'infra', 'local', 'servers.sh')
  : join(import.meta.dirname, 'servers', 'servers.sh')

/** Where an app keeps its servers' data: beside the package.json nearest to `cwd`. */
export function serversDataDir(cwd: string): string {
  let dir = resolve(cwd)
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  const root = existsSync(join(dir, 'package.json')) ? dir : resolve(cwd)
  return join(root, '.event-driven', 'servers')
}

export async function runServers(argv: string[], io: Io): Promise<number> {
  const [subcommand, ...rest] = argv
  if (subcommand === '--help' || subcommand === '-h') {
    io.out(usage)
    return 0
  }
  const cluster = subcommand === 'up' && rest.length === 1 && rest[0] === '--cluster'
  if (
    !subcommands.includes(subcommand as (typeof subcommands)[number]) ||
    (rest.length > 0 && !cluster)
  ) {
    io.err(usage)
    return 2
  }
  if (!existsSync(serversScript)) throw new Error(`this build of the CLI lacks ${serversScript}`)
  // In the monorepo the script keeps its own data dir (.local/infra), shared with pnpm infra:up.
  const fromRoot = frameworkRoot === undefined ? '..' : relative(frameworkRoot, process.cwd())
  const inRepo = !fromRoot.startsWith('..') && !isAbsolute(fromRoot)
  const env = {
    ...process.env,
    ...(process.env.ED_INFRA_DIR || inRepo ? {} : { ED_INFRA_DIR: serversDataDir(process.cwd()) }),
  }
  return new Promise((done, fail) => {
    // Progress goes to stderr, the KEY=value lines to stdout: both pass through as they come.
    const args = [serversScript, subcommand!, ...(cluster ? ['--cluster'] : [])]
    const child = spawn('bash', args, { env, stdio: 'inherit' })
    child.once('error', (error) =>
      fail(new Error(`could not run bash (the servers script needs it): ${error.message}`)),
    )
    child.once('exit', (code, signal) => done(code ?? (signal ? 1 : 0)))
  })
}
