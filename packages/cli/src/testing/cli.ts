import { spawn } from 'node:child_process'
import { join } from 'node:path'

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs `event-driven` as a user does (a new Node process), against one test's database and
 * stream, with the servers (and anything else) in `env`.
 */
export function cliRunner(settings: {
  database: string
  stream: { name: string; subjectPrefix: string }
  env: Record<string, string>
}): (...args: string[]) => Promise<CliResult> {
  return (...args) =>
    new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        [
          join(import.meta.dirname, '..', 'main.ts'),
          ...args,
          '--database',
          settings.database,
          '--stream',
          settings.stream.name,
          '--subject-prefix',
          settings.stream.subjectPrefix,
        ],
        { env: { ...process.env, ...settings.env } },
      )
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      child.on('close', (code) => resolve({ code, stdout, stderr }))
    })
}
