import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

const script = join(import.meta.dirname, '../../infra/local/servers.sh')

/**
 * The servers to measure on: `NATS_URL` and `MONGODB_URL` when set, else the local servers
 * (started when they are not running, and stopped again at the end if this run started them).
 */
export function benchServers(): { natsUrl: string; mongodbUrl: string; stop: () => void } {
  if (process.env.NATS_URL && process.env.MONGODB_URL) {
    return { natsUrl: process.env.NATS_URL, mongodbUrl: process.env.MONGODB_URL, stop: () => {} }
  }
  let running = true
  try {
    execFileSync('bash', [script, 'status'], { stdio: 'ignore' })
  } catch {
    running = false
  }
  const lines = execFileSync('bash', [script, 'up'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const env = new Map(
    lines
      .trim()
      .split('\n')
      .map(
        (line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const,
      ),
  )
  return {
    natsUrl: env.get('NATS_URL')!,
    mongodbUrl: env.get('MONGODB_URL')!,
    stop: () => {
      if (!running) execFileSync('bash', [script, 'down'], { stdio: 'inherit' })
    },
  }
}
