import { spawn, type ChildProcess } from 'node:child_process'

/** A process started by a test, with everything it printed. */
export interface NodeProcess {
  child: ChildProcess
  /** stdout and stderr so far, interleaved. */
  output(): string
  /** Resolves with its exit code (or the signal that ended it). */
  exited: Promise<number | string>
  /** Sends SIGTERM unless it already exited; resolves with how it exited. */
  stop(): Promise<number | string>
}

/** Runs `node <script> <args>` with the test's environment plus `env`. */
export function startNodeProcess(
  script: string,
  args: string[],
  env: Record<string, string>,
): NodeProcess {
  return startProcess(process.execPath, [script, ...args], { env: { ...process.env, ...env } })
}

/**
 * Runs any command with exactly `env` (default: the test's), collecting what it prints.
 * `detached` gives it a process group of its own, as a terminal gives its foreground job.
 */
export function startProcess(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; detached?: boolean } = {},
): NodeProcess {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    detached: options.detached,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  )
  return {
    child,
    output: () => output,
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}

/**
 * The environment of a command run as in a terminal: the test's, without what the runner
 * around it set for itself (npm and pnpm settings, `NODE_OPTIONS`, `NODE_PATH`, `INIT_CWD`).
 */
export function terminalEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env))
    if (!/^(npm_|pnpm_|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$)/i.test(key)) env[key] = value
  return { ...env, ...extra }
}

/** What a command run to its end gave: its exit code, and each stream's text. */
export interface CommandResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a command to its end (default environment: `terminalEnv()`); never rejects on a failure. */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? terminalEnv() })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}
