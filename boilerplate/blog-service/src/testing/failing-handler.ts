import { existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

/** One consumer group whose handler a test makes fail in a blog process it starts. */
export interface FailingHandler {
  /** `<service>.<handler>`, as `comments.updateAuthorName`. */
  consumerGroup: string
  /** The error the handler throws instead of running. */
  message: string
  /** Fails only while this file exists (so a test can fix the handler, then redrive); else always. */
  whileFileExists?: string
}

const variable = 'TEST_FAILING_HANDLER'

/**
 * The environment that makes a child blog process fail one consumer group's handler: it preloads
 * `failing-handler.preload.ts`, which hands the process a `createService` that wraps that
 * handler. The blog's own code has no test switch.
 */
export function failingHandlerEnv(fault: FailingHandler): Record<string, string> {
  const preload = pathToFileURL(`${import.meta.dirname}/failing-handler.preload.ts`).href
  return {
    NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${preload}`].filter(Boolean).join(' '),
    [variable]: JSON.stringify(fault),
  }
}

/** In the child: the fault its test asked for. */
export function failingHandlerFromEnv(): FailingHandler {
  const value = process.env[variable]
  if (!value)
    throw new Error(`${variable} is not set: use failingHandlerEnv() to start the process`)
  return JSON.parse(value) as FailingHandler
}

export function isFailing(fault: FailingHandler): boolean {
  return fault.whileFileExists === undefined || existsSync(fault.whileFileExists)
}
