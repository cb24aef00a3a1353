import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { TestNamespace, TestServers } from '@event-driven/testing'
import { databaseName } from './test-service.ts'

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

/** The environment of a `task-service.ts` process in a test's namespace (and scope). */
export function taskServiceEnv(
  ns: TestNamespace,
  servers: Pick<TestServers, 'natsUrl' | 'mongodbUrl'>,
  scope?: string,
): Record<string, string> {
  const prefix = scope ? `${ns.subjectPrefix}_${scope}` : ns.subjectPrefix
  return {
    NATS_URL: servers.natsUrl,
    MONGODB_URL: servers.mongodbUrl,
    ED_DATABASE: databaseName(ns, scope),
    ED_STREAM: `${prefix}_EVENTS`,
    ED_SUBJECT_PREFIX: prefix,
  }
}
