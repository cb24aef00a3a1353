import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually } from './eventually.ts'
import { freePort, portAccepts } from './ports.ts'

/** A nats-server of a test's own, to stop and start (the shared one must stay up). */
export interface NatsServerProcess {
  url: string
  port: number
  /** Stops the server (SIGTERM) and waits until it exited; JetStream data stays on disk. */
  stop(): Promise<void>
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>
  /** Stops it and removes its data. */
  dispose(): Promise<void>
}

/**
 * Starts a nats-server with JetStream on a free loopback port. Needs the binary: `NATS_SERVER_BIN`,
 * which `pnpm infra:up` prints.
 */
export async function startNatsServer(
  env: NodeJS.ProcessEnv = process.env,
): Promise<NatsServerProcess> {
  const bin = env.NATS_SERVER_BIN
  if (!bin) {
    throw new Error(
      'NATS_SERVER_BIN is not set: tests that stop and start a broker run their own nats-server; export the lines `pnpm -s infra:up` prints',
    )
  }
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'ed-nats-'))
  let child: ChildProcess | undefined

  const start = async () => {
    const spawned = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], {
      stdio: 'ignore',
    })
    child = spawned
    await eventually(
      async () => {
        if (spawned.exitCode !== null)
          throw new Error(`nats-server exited with ${spawned.exitCode}`)
        if (!(await portAccepts(port)))
          throw new Error(`nats-server is not listening on ${port} yet`)
      },
      { timeoutMs: 10_000 },
    )
  }
  const stop = async () => {
    const running = child
    child = undefined
    if (!running || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGTERM')
    await exited
  }
  await start()
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    start,
    dispose: async () => {
      await stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
