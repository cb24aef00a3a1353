import { containerRuntimeCheck } from './container-runtime.ts'
import { startNatsCluster, type NatsCluster } from './nats-cluster.ts'

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
  /** With `natsCluster`: the cluster `natsUrl` names, to stop, kill and restart its nodes. */
  natsCluster?: NatsCluster
  /**
   * Stops the containers (and the cluster) this call started; servers from the environment are
   * left alone.
   */
  stop(): Promise<void>
}

/** `own`: started for this call alone (a cluster). */
export type ServerSource = 'environment' | 'testcontainers' | 'own'

export interface GetTestServersOptions {
  /** Where to read `NATS_URL`, `MONGODB_URL`, `S3_URL` and S3 credentials. Default: `process.env`. */
  env?: NodeJS.ProcessEnv
  /**
   * A Docker engine to ask for containers, probed as given. Default: wherever testcontainers'
   * own detection finds a container runtime (`container-runtime.ts`).
   */
  dockerHost?: string
  /**
   * NATS as a three-node JetStream cluster of this call's own (loopback, own ports and store
   * folders; needs `NATS_SERVER_BIN`) instead of `NATS_URL`'s server; MongoDB and S3 as usual.
   * Each such call starts its own cluster: its test may kill nodes.
   */
  natsCluster?: boolean
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
  if (options.natsCluster) return withNatsCluster(options)
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

async function withNatsCluster({
  natsCluster: _,
  ...options
}: GetTestServersOptions): Promise<TestServers> {
  const servers = await getTestServers(options)
  const cluster = await startNatsCluster(options.env ?? process.env)
  return {
    ...servers,
    natsUrl: cluster.url,
    env: { ...servers.env, NATS_URL: cluster.url },
    source: { ...servers.source, nats: 'own' },
    natsCluster: cluster,
    stop: () => cluster.dispose(),
  }
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
