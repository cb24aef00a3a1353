import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'

/** A service process started by a test, with the output it printed. */
export interface ServiceProcess {
  child: ChildProcess
  output(): string
  /** Resolves when it printed `ready`; rejects if it exits first. */
  ready: Promise<void>
  /** Resolves with its exit code (or signal). */
  exited: Promise<number | string>
}

/** Runs a fixture of `src/testing/` (e.g. `task-service.ts`) as its own Node process. */
export function startServiceProcess(fixture: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, [join(import.meta.dirname, fixture)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  )
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => {
      if (output.includes('ready\n')) resolve()
    })
    void exited.then((code) =>
      reject(new Error(`${fixture} exited (${code}) before ready:\n${output}`)),
    )
  })
  return { child, output: () => output, ready, exited }
}
