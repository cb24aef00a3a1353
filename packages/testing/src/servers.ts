import { containerRuntimeCheck } from './container-runtime.ts'

/** Connection details of an S3-compatible server (path-style addressing). */
export interface S3Server {
  endpoint: string
  region: string
  accessKeyId: string
  secretAccessKey: string
}

/** The real servers a test talks to. */
export interface TestServers {
  natsUrl: string
  mongodbUrl: string
  s3: S3Server
  /** Where each server came from. */
  source: { nats: ServerSource; mongodb: ServerSource; s3: ServerSource }
  /** The same servers as environment variables, for child processes. */
  env: Record<string, string>
  /** Stops the containers this call started; servers from the environment are left alone. */
  stop(): Promise<void>
}

export type ServerSource = 'environment' | 'testcontainers'

export interface GetTestServersOptions {
  /** Where to read `NATS_URL`, `MONGODB_URL`, `S3_URL` and S3 credentials. Default: `process.env`. */
  env?: NodeJS.ProcessEnv
  /**
   * A Docker engine to ask for containers, probed as given. Default: wherever testcontainers'
   * own detection finds a container runtime (`container-runtime.ts`).
   */
  dockerHost?: string
}

/** What a missing server needs; the error names these. */
const serverVariables = ['NATS_URL', 'MONGODB_URL', 'S3_URL'] as const

/** No server URLs and no Docker engine. Its message is the one sentence to act on. */
export class NoTestServersError extends Error {
  override name = 'NoTestServersError'
  constructor(message: string) {
    super(message)
    // Where it was thrown says nothing to the reader; the sentence says everything.
    this.stack = `${this.name}: ${message}`
  }
}

let shared: Promise<TestServers> | undefined

/**
 * Finds the servers for integration tests. Each server comes from the environment when its URL
 * is set (`NATS_URL`, `MONGODB_URL`, `S3_URL`); the others are started with testcontainers when a
 * Docker engine answers; without either it fails with one sentence that says how to start local
 * servers. Calls without options share one result per process.
 */
export function getTestServers(options: GetTestServersOptions = {}): Promise<TestServers> {
  if (options.env || options.dockerHost) return findTestServers(options)
  shared ??= findTestServers(options)
  return shared
}

async function findTestServers(options: GetTestServersOptions): Promise<TestServers> {
  const env = options.env ?? process.env
  const missing = serverVariables.filter((name) => !env[name])
  const s3FromEnv: S3Server | undefined = env.S3_URL
    ? {
        endpoint: env.S3_URL,
        region: env.S3_REGION || 'us-east-1',
        accessKeyId: env.S3_ACCESS_KEY_ID || 'test',
        secretAccessKey: env.S3_SECRET_ACCESS_KEY || 'testsecret',
      }
    : undefined
  if (env.NATS_URL && env.MONGODB_URL && s3FromEnv) {
    return describeServers(env.NATS_URL, env.MONGODB_URL, s3FromEnv, allFrom('environment'))
  }

  const runtime = containerRuntimeCheck(options.dockerHost)
  if (!(await runtime.answers())) {
    throw new NoTestServersError(
      `No test servers: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set and no container runtime answers ${runtime.where}, so start local servers with \`./dev.sh test\` (or export the lines that \`pnpm -s infra:up\` prints) and run the tests again.`,
    )
  }
  const { startContainers } = await import('./containers.ts')
  const containers = await startContainers({
    nats: !env.NATS_URL,
    mongodb: !env.MONGODB_URL,
    s3: !s3FromEnv,
  })
  const servers = describeServers(
    env.NATS_URL || containers.natsUrl!,
    env.MONGODB_URL || containers.mongodbUrl!,
    s3FromEnv ?? containers.s3!,
    {
      nats: env.NATS_URL ? 'environment' : 'testcontainers',
      mongodb: env.MONGODB_URL ? 'environment' : 'testcontainers',
      s3: s3FromEnv ? 'environment' : 'testcontainers',
    },
  )
  return { ...servers, stop: containers.stop }
}

function allFrom(source: ServerSource): TestServers['source'] {
  return { nats: source, mongodb: source, s3: source }
}

function describeServers(
  natsUrl: string,
  mongodbUrl: string,
  s3: S3Server,
  source: TestServers['source'],
): TestServers {
  return {
    natsUrl,
    mongodbUrl,
    s3,
    source,
    env: {
      NATS_URL: natsUrl,
      MONGODB_URL: mongodbUrl,
      S3_URL: s3.endpoint,
      S3_REGION: s3.region,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    },
    stop: () => Promise.resolve(),
  }
}
