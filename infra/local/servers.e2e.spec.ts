import { spawn, spawnSync } from 'node:child_process'
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, portAccepts } from '../../packages/testing/src/ports.ts'

// Runs infra/local/servers.sh for real, on its own ports and data directory, beside the servers
// the other tests use. Needs the binaries the test run's own `infra:up` built.
const script = join(import.meta.dirname, 'servers.sh')
const built = spawnSync('bash', [script, 'built']).status === 0

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(command: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, command], { env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

async function listen(port = 0): Promise<Server> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  return server
}

/** The first of `count` free ports in a row (a cluster's nodes count up from one). */
async function freePortRun(count: number): Promise<number> {
  for (;;) {
    const first = await freePort()
    if (first + count > 65_535) continue
    const rest = await Promise.all(
      Array.from({ length: count - 1 }, async (_, i) => {
        const server = await listen(first + i + 1).catch(() => undefined)
        await new Promise((resolve) => server?.close(resolve))
        return server !== undefined
      }),
    )
    if (rest.every(Boolean)) return first
  }
}

/** A data directory and five free ports of its own. */
async function setup(): Promise<{ dir: string; ports: number[]; env: Record<string, string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ed-infra-'))
  await chmod(dir, 0o755) // PostgreSQL runs as `postgres` when we are root: it must reach its data.
  const ports = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ]
  const [nats, monitor, mongodb, postgres, s3] = ports.map(String) as [
    string,
    string,
    string,
    string,
    string,
  ]
  return {
    dir,
    ports,
    env: {
      ED_INFRA_DIR: dir,
      ED_NATS_PORT: nats,
      ED_NATS_MONITOR_PORT: monitor,
      ED_MONGODB_PORT: mongodb,
      ED_POSTGRES_PORT: postgres,
      ED_S3_PORT: s3,
    },
  }
}

describe.runIf(built)('infra/local/servers.sh', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const dir of dirs) {
      await run('down', { ED_INFRA_DIR: dir })
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('up starts all servers, prints their variables, is harmless twice; down stops them', async () => {
    const { dir, ports, env } = await setup()
    dirs.push(dir)
    const [natsPort, , mongodbPort, , s3Port] = ports

    const first = await run('up', env)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain(`NATS_URL=nats://127.0.0.1:${natsPort}\n`)
    expect(first.stdout).toContain(`MONGODB_URL=mongodb://127.0.0.1:${mongodbPort}/\n`)
    expect(first.stdout).toContain(`S3_URL=http://127.0.0.1:${s3Port}\n`)
    expect(first.stdout).toMatch(/^S3_ACCESS_KEY_ID=.+$/m)
    expect(await run('status', env)).toMatchObject({ code: 0 })

    const second = await run('up', env)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toBe(first.stdout)
    expect(second.stderr).toContain('already running')

    expect(await run('down', env)).toMatchObject({ code: 0 })
    expect(await run('status', env)).toMatchObject({ code: 1 })
    for (const port of ports) expect(await portAccepts(port), `port ${port} still open`).toBe(false)
  })

  it('up --cluster: three nats-servers as one JetStream cluster, NATS_URL names all three; up keeps it; down stops it', async () => {
    const { dir, ports, env } = await setup()
    dirs.push(dir)
    const [nats, monitor, routes] = [
      await freePortRun(3),
      await freePortRun(3),
      await freePortRun(3),
    ]
    const clusterEnv = {
      ...env,
      ED_NATS_PORT: String(nats),
      ED_NATS_MONITOR_PORT: String(monitor),
      ED_NATS_CLUSTER_PORT: String(routes),
      ED_NATS_CLUSTER: '1',
    }
    const up = await run('up', clusterEnv)
    expect(up.code, up.stderr).toBe(0)
    const urls = [0, 1, 2].map((i) => `nats://127.0.0.1:${nats + i}`)
    expect(up.stdout).toContain(`NATS_URL=${urls.join(',')}\n`)
    const jsz = (await (await fetch(`http://127.0.0.1:${monitor}/jsz`)).json()) as {
      meta_cluster?: { cluster_size?: number; leader?: string }
    }
    expect(jsz.meta_cluster?.cluster_size).toBe(3)
    expect(jsz.meta_cluster?.leader).toMatch(/^n[123]$/)
    // A plain `up` keeps the cluster (./dev.sh test runs on it), and says so.
    const again = await run('up', { ...clusterEnv, ED_NATS_CLUSTER: '0' })
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toBe(up.stdout)
    expect(await run('status', clusterEnv)).toMatchObject({ code: 0 })

    expect(await run('down', clusterEnv)).toMatchObject({ code: 0 })
    const opened = [
      ...ports.slice(2),
      ...[0, 1, 2].flatMap((i) => [nats + i, monitor + i, routes + i]),
    ]
    for (const port of opened)
      expect(await portAccepts(port), `port ${port} still open`).toBe(false)
  })

  it('a port already taken fails with its number and the variable that moves it', async () => {
    const { dir, ports, env } = await setup()
    dirs.push(dir)
    const blocker = await listen(ports[0])
    try {
      const result = await run('up', env)
      expect(result.code).toBe(1)
      expect(result.stderr).toContain(`port ${ports[0]} (NATS client) is already in use`)
      expect(result.stderr).toContain('ED_NATS_PORT')
      expect(result.stdout).toBe('')
    } finally {
      blocker.close()
    }
  })

  it('a server that cannot start stops everything this run started', async () => {
    const { dir, ports, env } = await setup()
    dirs.push(dir)
    const [natsPort, monitorPort, mongodbPort, postgresPort, s3Port] = ports as [
      number,
      number,
      number,
      number,
      number,
    ]
    const blocker = await listen(s3Port) // NATS and FerretDB start; S3 cannot.
    try {
      const result = await run('up', env)
      expect(result.code).toBe(1)
      expect(result.stderr).toContain(`port ${s3Port} (S3 (versitygw)) is already in use`)
      expect(result.stderr).toContain('nothing was left running')
      for (const port of [natsPort, monitorPort, mongodbPort, postgresPort]) {
        expect(await portAccepts(port), `port ${port} still open`).toBe(false)
      }
      expect((await readdir(dir)).filter((f) => f.endsWith('.pid'))).toEqual([])
    } finally {
      blocker.close()
    }
  })
})
