import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

const script = join(import.meta.dirname, '../../infra/local/servers.sh')

/** An S3-compatible server, for the reads' retention path (archive, then remove). */
export interface BenchS3 {
  url: string
  region: string
  accessKeyId: string
  secretAccessKey: string
}

export interface BenchServers {
  natsUrl: string
  mongodbUrl: string
  s3: BenchS3
  /** Where the server binaries are (`NATS_SERVER_BIN`), for servers of the bench's own. */
  env: NodeJS.ProcessEnv
  stop: () => void
}

function s3From(env: (name: string) => string | undefined): BenchS3 {
  return {
    url: env('S3_URL')!,
    region: env('S3_REGION') ?? 'us-east-1',
    accessKeyId: env('S3_ACCESS_KEY_ID')!,
    secretAccessKey: env('S3_SECRET_ACCESS_KEY')!,
  }
}

/**
 * The servers to measure on: `NATS_URL`, `MONGODB_URL` and `S3_URL` (with its `S3_*` keys) when
 * set, else the local servers (started when they are not running, and stopped again at the end
 * if this run started them).
 */
export function benchServers(): BenchServers {
  if (process.env.NATS_URL && process.env.MONGODB_URL && process.env.S3_URL) {
    return {
      natsUrl: process.env.NATS_URL,
      mongodbUrl: process.env.MONGODB_URL,
      s3: s3From((name) => process.env[name]),
      env: process.env,
      stop: () => {},
    }
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
    s3: s3From((name) => env.get(name)),
    env: { ...process.env, ...Object.fromEntries(env) },
    stop: () => {
      if (!running) execFileSync('bash', [script, 'down'], { stdio: 'inherit' })
    },
  }
}
