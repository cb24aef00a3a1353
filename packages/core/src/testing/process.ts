import { join } from 'node:path'
import {
  startNodeProcess,
  type NodeProcess,
  type TestNamespace,
  type TestServers,
} from '@event-driven/testing'
import { databaseName } from './test-service.ts'

/** A service process started by a test: a Node process that prints `ready` once started. */
export interface ServiceProcess extends NodeProcess {
  /** Resolves when it printed `ready`; rejects if it exits first. */
  ready: Promise<void>
}

/** Runs a fixture of `src/testing/` (e.g. `task-service.ts`) as its own Node process. */
export function startServiceProcess(fixture: string, env: Record<string, string>): ServiceProcess {
  const process = startNodeProcess(join(import.meta.dirname, fixture), [], env)
  const ready = new Promise<void>((resolve, reject) => {
    process.child.stdout?.on('data', () => {
      if (process.output().includes('ready\n')) resolve()
    })
    void process.exited.then((code) =>
      reject(new Error(`${fixture} exited (${code}) before ready:\n${process.output()}`)),
    )
  })
  return { ...process, ready }
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
