import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers'
import type { S3Server } from './servers.ts'

/** Container images, pinned to the versions the project supports. */
export const images = {
  nats: 'nats:2.12',
  mongodb: 'mongo:8',
  minio: 'minio/minio:RELEASE.2025-09-07T16-13-09Z',
} as const

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
    wanted.s3 ? startMinio() : undefined,
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
  const [nats, mongodb, minio] = results.map((r) =>
    r.status === 'fulfilled' ? r.value : undefined,
  )
  return {
    natsUrl: nats && `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`,
    // One member whose advertised host is the container's own name: connect directly.
    mongodbUrl:
      mongodb &&
      `mongodb://${mongodb.getHost()}:${mongodb.getMappedPort(27017)}/?directConnection=true`,
    s3: minio && {
      endpoint: `http://${minio.getHost()}:${minio.getMappedPort(9000)}`,
      region: 'us-east-1',
      accessKeyId: 'minioadmin',
      secretAccessKey: 'minioadmin',
    },
    stop,
  }
}

function startNats(): Promise<StartedTestContainer> {
  return new GenericContainer(images.nats)
    .withCommand(['-js', '-m', '8222'])
    .withExposedPorts(4222, 8222)
    .withWaitStrategy(Wait.forHttp('/healthz?js-enabled-only=true', 8222))
    .start()
}

async function startMongoReplicaSet(): Promise<StartedTestContainer> {
  const container = await new GenericContainer(images.mongodb)
    .withCommand(['--replSet', 'rs0', '--bind_ip_all'])
    .withExposedPorts(27017)
    .withWaitStrategy(Wait.forLogMessage(/Waiting for connections/))
    .start()
  // A single-node replica set gives transactions and change streams, as in production.
  const result = await container.exec([
    'mongosh',
    '--quiet',
    '--eval',
    "rs.initiate({ _id: 'rs0', members: [{ _id: 0, host: 'localhost:27017' }] }); " +
      'while (!db.hello().isWritablePrimary) sleep(100)',
  ])
  if (result.exitCode !== 0) {
    await container.stop()
    throw new Error(`MongoDB replica set did not initiate: ${result.output}`)
  }
  return container
}

function startMinio(): Promise<StartedTestContainer> {
  return new GenericContainer(images.minio)
    .withCommand(['server', '/data'])
    .withEnvironment({ MINIO_ROOT_USER: 'minioadmin', MINIO_ROOT_PASSWORD: 'minioadmin' })
    .withExposedPorts(9000)
    .withWaitStrategy(Wait.forHttp('/minio/health/live', 9000))
    .start()
}
