import { MongoDBContainer, type StartedMongoDBContainer } from '@testcontainers/mongodb'
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers'
import type { S3Server } from './servers.ts'

/**
 * Container images, pinned to the versions the project supports. S3 is versitygw, the server
 * `pnpm infra:up` builds (MinIO's image repository is no longer maintained).
 */
export const images = {
  nats: 'nats:2.12',
  mongodb: 'mongo:8',
  s3: 'ghcr.io/versity/versitygw:v1.7.0',
} as const

/** The S3 credentials of the container, as `pnpm infra:up` uses them. */
const s3Credentials = { accessKeyId: 'test', secretAccessKey: 'testsecret' }

export interface StartedContainers {
  natsUrl?: string
  mongodbUrl?: string
  s3?: S3Server
  stop: () => Promise<void>
}

/** Starts the asked-for servers in containers, in parallel; on any failure stops the rest. */
export async function startContainers(wanted: {
  nats: boolean
  mongodb: boolean
  s3: boolean
}): Promise<StartedContainers> {
  const results = await Promise.allSettled([
    wanted.nats ? startNats() : undefined,
    wanted.mongodb ? startMongoReplicaSet() : undefined,
    wanted.s3 ? startS3() : undefined,
  ])
  const started = results.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []))
  const stop = async () => {
    await Promise.all(started.map((c) => c.stop()))
  }
  const failure = results.find((r) => r.status === 'rejected')
  if (failure) {
    await stop()
    throw failure.reason
  }
  const [nats, mongodb, s3] = results.map((r) =>
    r.status === 'fulfilled' ? r.value : undefined,
  ) as [StartedTestContainer?, StartedMongoDBContainer?, StartedTestContainer?]
  return {
    natsUrl: nats && `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`,
    // One member whose advertised host is the container's own name: connect directly.
    mongodbUrl: mongodb && `${mongodb.getConnectionString()}/?directConnection=true`,
    s3: s3 && {
      endpoint: `http://${s3.getHost()}:${s3.getMappedPort(7070)}`,
      region: 'us-east-1',
      ...s3Credentials,
    },
    stop,
  }
}

/**
 * A generic container, not testcontainers' NATS module: the module's server always asks for a
 * user and password, which a `NATS_URL` does not carry to the framework.
 */
function startNats(): Promise<StartedTestContainer> {
  return new GenericContainer(images.nats)
    .withCommand(['-js', '-m', '8222'])
    .withExposedPorts(4222, 8222)
    .withWaitStrategy(Wait.forHttp('/healthz?js-enabled-only=true', 8222))
    .start()
}

/** The MongoDB module starts a single-node replica set: transactions and change streams. */
function startMongoReplicaSet(): Promise<StartedMongoDBContainer> {
  return new MongoDBContainer(images.mongodb).start()
}

function startS3(): Promise<StartedTestContainer> {
  return new GenericContainer(images.s3)
    .withEnvironment({
      ROOT_ACCESS_KEY: s3Credentials.accessKeyId,
      ROOT_SECRET_KEY: s3Credentials.secretAccessKey,
    })
    .withCommand(['--port', ':7070', '--health', '/health', 'posix', '/tmp/vgw'])
    .withExposedPorts(7070)
    .withWaitStrategy(Wait.forHttp('/health', 7070))
    .start()
}
