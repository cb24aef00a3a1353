import { randomBytes } from 'node:crypto'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { MongoClient } from 'mongodb'

/** Where the benchmark runs: the servers, and a prefix for every database and stream it makes. */
export interface BenchContext {
  natsUrl: string
  mongodbUrl: string
  /** `bench_<random>`: databases and streams named with it are dropped at the end. */
  prefix: string
  /** A fresh name for one run, under the prefix. */
  scope(name: string): { database: string; stream: string; subjectPrefix: string }
}

export function benchContext(natsUrl: string, mongodbUrl: string): BenchContext {
  const prefix = `bench_${randomBytes(3).toString('hex')}`
  let runs = 0
  return {
    natsUrl,
    mongodbUrl,
    prefix,
    scope(name) {
      const id = `${prefix}_${name}_${++runs}`
      return { database: id, stream: `${id}_EVENTS`, subjectPrefix: id }
    },
  }
}

/** Drops the databases and streams the benchmark made. */
export async function cleanup(ctx: BenchContext): Promise<void> {
  const mongo = await new MongoClient(ctx.mongodbUrl).connect()
  try {
    const { databases } = await mongo.db().admin().listDatabases({ nameOnly: true })
    for (const { name } of databases)
      if (name.startsWith(ctx.prefix)) await mongo.db(name).dropDatabase()
    await deleteStreams(ctx)
  } finally {
    await mongo.close()
  }
}

/**
 * Deletes the streams the benchmark made on `ctx.natsUrl` (one server, or several
 * comma-separated), and says how many nodes held each (1 outside a cluster).
 */
export async function deleteStreams(ctx: BenchContext): Promise<Record<string, number>> {
  const nc = await connect({ servers: ctx.natsUrl.split(',') })
  try {
    const jsm = await jetstreamManager(nc)
    const nodes: Record<string, number> = {}
    for await (const name of jsm.streams.names()) {
      if (!name.startsWith(ctx.prefix)) continue
      const { cluster } = await jsm.streams.info(name)
      nodes[name] = 1 + (cluster?.replicas?.length ?? 0)
      await jsm.streams.delete(name)
    }
    return nodes
  } finally {
    await nc.close()
  }
}

/** Server versions for the results: NATS from its INFO, MongoDB (or FerretDB) from buildInfo. */
export async function serverVersions(ctx: BenchContext): Promise<Record<string, string>> {
  const mongo = await new MongoClient(ctx.mongodbUrl).connect()
  const nc = await connect({ servers: ctx.natsUrl })
  try {
    const build = await mongo.db('admin').command({ buildInfo: 1 })
    const ferretdb = build.ferretdbVersion as string | undefined
    return {
      nats: nc.info?.version ?? 'unknown',
      mongodb: String(build.version),
      ...(ferretdb ? { ferretdb } : {}),
    }
  } finally {
    await nc.close()
    await mongo.close()
  }
}
