import { connectToNats, createService, watchNatsState, type Service } from '@event-driven/core'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import { MongoClient, type Db } from 'mongodb'
import type { Logger } from 'pino'
import { eventStoreDatabase, type ServiceConfig } from './config.ts'
import { runtimeHealth, type RuntimeHealth } from './process-health.ts'
import { loadRpcSettings, rpcClient, serveRpc, type RpcClient, type RpcMethod } from './rpc.ts'
import {
  checkTimerOptions,
  startTimer,
  type Timer,
  type TimerOptions,
  type TimerTask,
} from './timer.ts'

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
  /** Answers requests for these methods (call once handlers are registered); starts the timers. */
  start(methods: Record<string, RpcMethod>): Promise<void>
  /**
   * Runs `task` once per tick of `options.intervalMs` across every instance of this service, as
   * an operation (actor `timer:<name>`): see `startTimer`. It starts ticking at `start()` (at
   * once, when called after it) and stops at `stop()`, which waits for a running tick.
   */
  every(options: TimerOptions, task: TimerTask): void
  /**
   * Stops the timers (waiting for running ticks), the request-reply methods, then the service.
   * Readiness turns false first.
   */
  stop(): Promise<void>
  /** The core service's health and the request-reply connection's: what `/readyz` reports. */
  health(): Promise<RuntimeHealth>
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
  const rpc = {
    ...(await loadRpcSettings(mongo.db(eventStoreDb), config.rpcPrefix, config.signingKey)),
    tracing: config.tracing,
  }
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
    metrics: config.metrics,
    tracing: config.tracing,
    logger: logger.child({ service: name }),
    stopOnSignals: false, // main.ts stops every runtime of the process, then exits
  })
  let subscription: Subscription | undefined
  let started = false
  let stopping = false
  const requestReply = watchNatsState(nc)
  const pendingTimers: { options: TimerOptions; task: TimerTask }[] = []
  const timers: Timer[] = []
  const host = { service: name, core, logger: logger.child({ service: name }) }
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
      started = true
      for (const { options, task } of pendingTimers.splice(0))
        timers.push(startTimer(host, options, task))
    },
    every(options, task) {
      checkTimerOptions(options)
      const names = [...timers.map((t) => t.name), ...pendingTimers.map((t) => t.options.name)]
      if (names.includes(options.name))
        throw new Error(`${name}: timer ${options.name} is started twice`)
      if (started) timers.push(startTimer(host, options, task))
      else pendingTimers.push({ options, task })
    },
    health: () => runtimeHealth(core, requestReply.state(), stopping),
    async stop() {
      stopping = true
      await Promise.all(timers.splice(0).map((timer) => timer.stop()))
      subscription?.unsubscribe()
      await core.stop()
      await nc.drain().catch(() => nc.close())
      requestReply.stop()
      await mongo.close()
    },
  }
}
