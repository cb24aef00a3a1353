import { existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { ChangeStep } from '@event-driven/core'

/** One consumer group whose handler a test makes fail in a blog process it starts. */
export interface FailingHandler {
  /** `<service>.<handler>`, as `comments.updateAuthorName`. */
  consumerGroup: string
  /** The error the handler throws instead of running. */
  message: string
  /** Fails only while this file exists (so a test can fix the handler, then redrive); else always. */
  whileFileExists?: string
  /** Fails only its first runs, this many, in the process. */
  times?: number
}

/** One consumer group whose handler waits, before it runs, while a file exists. */
export interface HeldHandler {
  consumerGroup: string
  whileFileExists: string
  /** Written when a run starts waiting, so the test knows the handler is held. */
  heldFile: string
}

/** The faults a test injects into a blog process it starts. */
export interface Faults {
  failingHandler?: FailingHandler
  heldHandler?: HeldHandler
  /** The process kills itself (SIGKILL) right after this step of its first state change. */
  killAtChangeStep?: ChangeStep
}

const variable = 'TEST_FAULTS'

/**
 * The environment that injects `faults` into a child blog process: it preloads
 * `faults.preload.ts`, which hands the process a `createService` that carries them out. The
 * blog's own code, and the service kit, have no test switch.
 */
export function faultEnv(faults: Faults): Record<string, string> {
  const preload = pathToFileURL(`${import.meta.dirname}/faults.preload.ts`).href
  return {
    NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${preload}`].filter(Boolean).join(' '),
    [variable]: JSON.stringify(faults),
  }
}

/** In the child: the faults its test asked for. */
export function faultsFromEnv(): Faults {
  const value = process.env[variable]
  if (!value) throw new Error(`${variable} is not set: use faultEnv() to start the process`)
  return JSON.parse(value) as Faults
}

/** Whether the run numbered `run` (1 for the first in this process) fails. */
export function isFailing(fault: FailingHandler, run: number): boolean {
  if (fault.times !== undefined && run > fault.times) return false
  return fault.whileFileExists === undefined || existsSync(fault.whileFileExists)
}
