import { connectToNats, createService, type Service } from '@event-driven/core'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import { MongoClient, type Db } from 'mongodb'
import type { Logger } from 'pino'
import { eventStoreDatabase, type ServiceConfig } from './config.ts'
import { loadRpcSettings, rpcClient, serveRpc, type RpcClient, type RpcMethod } from './rpc.ts'

/** One service: its own database, its core service, and its request-reply methods. */
export interface ServiceRuntime {
  name: string
  core: Service
  /** The service's own database (`<prefix><name>`). */
  db: Db
  nc: NatsConnection
  /** Asks other services (signed requests: they trust the actor it names). */
  rpc: RpcClient
  config: ServiceConfig
  logger: Logger
  /** Answers requests for these methods (call once handlers are registered). */
  start(methods: Record<string, RpcMethod>): Promise<void>
  stop(): Promise<void>
}

export async function createRuntime(
  name: string,
  config: ServiceConfig,
  logger: Logger,
): Promise<ServiceRuntime> {
  const mongo = await new MongoClient(config.mongodbUrl, {
    serverSelectionTimeoutMS: 5_000,
  }).connect()
  const nc = await connectToNats(config.nats, `${name}-rpc`)
  const eventStoreDb = eventStoreDatabase(config)
  const rpc = await loadRpcSettings(mongo.db(eventStoreDb), config.rpcPrefix, config.signingKey)
  const core = await createService({
    name,
    nats: config.nats,
    mongodb: mongo,
    database: eventStoreDb,
    ...(config.signingKey ? { signingKey: config.signingKey } : {}),
    stream: config.stream,
    retry: { baseDelayMs: config.retryBaseDelayMs },
    archive: config.archive,
    retention: config.retention,
    operations: config.operations,
    relay: config.relay,
    logger: logger.child({ service: name }),
    stopOnSignals: false, // main.ts stops every runtime of the process, then exits
  })
  let subscription: Subscription | undefined
  return {
    name,
    core,
    db: mongo.db(`${config.databasePrefix}${name}`),
    nc,
    rpc: rpcClient(nc, rpc, logger, config.rpcTimeoutMs),
    config,
    logger,
    async start(methods) {
      await core.start()
      subscription = serveRpc(nc, rpc, name, methods, logger)
    },
    async stop() {
      subscription?.unsubscribe()
      await core.stop()
      await nc.drain().catch(() => nc.close())
      await mongo.close()
    },
  }
}
