import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually } from './eventually.ts'
import { freePort, portAccepts } from './ports.ts'

/** A server of a test's own, to stop and start (the shared ones must stay up). */
export interface OwnServer {
  port: number
  /** Stops the server (SIGTERM) and waits until it exited; its data stays on disk. */
  stop(): Promise<void>
  /** Kills it (SIGKILL: no shutdown of its own) and waits until it exited; its data stays. */
  kill(): Promise<void>
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>
  /** Stops it and removes its data. */
  dispose(): Promise<void>
}

/**
 * Starts `command` on a free loopback port with a data folder of its own, and waits until the
 * port accepts connections. `args` and `env` say how to run it on that port and folder.
 */
export async function startOwnServer(options: {
  name: string
  command: string
  args: (port: number, dir: string) => string[]
  env?: NodeJS.ProcessEnv
  /** Makes what the server needs in its data folder before the first start. */
  prepare?: (dir: string) => Promise<void>
}): Promise<OwnServer> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), `ed-${options.name}-`))
  await options.prepare?.(dir)
  let child: ChildProcess | undefined

  const start = async () => {
    const spawned = spawn(options.command, options.args(port, dir), {
      stdio: 'ignore',
      env: { ...process.env, ...options.env },
    })
    child = spawned
    await eventually(
      async () => {
        if (spawned.exitCode !== null)
          throw new Error(`${options.name} exited with ${spawned.exitCode}`)
        if (!(await portAccepts(port)))
          throw new Error(`${options.name} is not listening on ${port} yet`)
      },
      { timeoutMs: 10_000 },
    )
  }
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const running = child
    child = undefined
    if (!running || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill(signal)
    await exited
  }
  await start()
  return {
    port,
    stop: () => stop(),
    kill: () => stop('SIGKILL'),
    start,
    dispose: async () => {
      await stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** The path of a server binary from the env, or an error that says how to get it. */
export function serverBinary(env: NodeJS.ProcessEnv, variable: string, what: string): string {
  const bin = env[variable]
  if (!bin) {
    throw new Error(
      `${variable} is not set: tests that stop and start ${what} run their own; export the lines \`pnpm -s infra:up\` prints`,
    )
  }
  return bin
}
