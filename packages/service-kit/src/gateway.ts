import { createServer, type Server } from 'node:http'
import {
  cachedMongoPing,
  connectToNats,
  newId,
  watchNatsState,
  type GatewayMetrics,
} from '@event-driven/core'
import { errors as natsErrors, type NatsConnection } from '@nats-io/transport-node'
import { GraphQLError } from 'graphql'
import { createSchema, createYoga } from 'graphql-yoga'
import { MongoClient } from 'mongodb'
import type { Logger } from 'pino'
import { verifyToken } from './auth.ts'
import { eventStoreDatabase, type ServiceConfig } from './config.ts'
import type { GatewayContext, Resolver, ServiceModule } from './module.ts'
import { operationChainForGraphQL, operationTypeDefs } from './operation-chain.ts'
import { idempotencyKeys, type IdempotencyKeys, type IdempotencyRecord } from './idempotency.ts'
import { loadRpcSettings, rpcClient, ServiceError } from './rpc.ts'
import { gatewayLimitOptions } from './gateway-limits.ts'
import { gatewayMetricsOf, gatewayMetricsPlugin } from './gateway-metrics.ts'
import { gatewayTracingPlugin } from './gateway-tracing.ts'
import { webhookServer, webhooksOf } from './webhook-route.ts'
import { gatewayHealth, type GatewayHealth } from './process-health.ts'

type Context = GatewayContext

/** A running gateway: where it serves GraphQL and each webhook, and what stops it. */
export interface Gateway {
  /** The GraphQL endpoint, `http://<host>:<port>/graphql`. */
  url: string
  /** Each webhook's URL (`http://<host>:<port>/webhooks/<name>`), by name. */
  webhookUrls: Record<string, string>
  /** Stops taking requests (readiness turns false first) and closes its connections. */
  stop(): Promise<void>
  /** NATS connected, MongoDB answering, not stopping: what `/readyz` reports. */
  health(): Promise<GatewayHealth>
}

/** A service error as a GraphQL error: its code and field in `extensions`, its message as is. */
function toGraphQLError(error: unknown): never {
  if (error instanceof ServiceError) {
    throw new GraphQLError(error.message, {
      extensions: { code: error.code, ...(error.field ? { field: error.field } : {}) },
    })
  }
  throw error
}

/**
 * What a caller learns when a mutation does not succeed: always its operation id, and a code
 * that says whether anything happened. A timeout is `OUTCOME_UNKNOWN` (the service may still
 * finish: look at `operation(id)` before sending the command again); a missing service is
 * `SERVICE_UNAVAILABLE` (nothing was recorded); anything unexpected is `INTERNAL`, logged.
 */
function mutationError(
  error: unknown,
  mutation: string,
  operationId: string,
  timeoutMs: number,
  logger: Logger,
): GraphQLError {
  const withId = (message: string, extensions: Record<string, unknown>) =>
    new GraphQLError(message, { extensions: { ...extensions, operationId } })
  if (error instanceof ServiceError)
    return withId(error.message, {
      code: error.code,
      ...(error.field ? { field: error.field } : {}),
    })
  if (error instanceof GraphQLError) return withId(error.message, error.extensions)
  if (error instanceof natsErrors.RequestError && error.isNoResponders()) {
    logger.warn({ operationId, mutation }, 'no service answers this mutation: nothing was recorded')
    return withId(`${mutation} is not available now: nothing was recorded; try again later`, {
      code: 'SERVICE_UNAVAILABLE',
    })
  }
  if (error instanceof natsErrors.TimeoutError) {
    logger.warn(
      { operationId, mutation },
      'no answer in time: the outcome of this mutation is unknown',
    )
    return withId(
      `the outcome of ${mutation} is unknown: its service did not answer within ${Math.round(timeoutMs / 1000)} s and may still finish. Query operation(id: "${operationId}") before sending it again`,
      { code: 'OUTCOME_UNKNOWN' },
    )
  }
  logger.error({ err: error, operationId, mutation }, 'mutation failed unexpectedly')
  return withId('the mutation failed unexpectedly; see the gateway log', { code: 'INTERNAL' })
}

/**
 * Keeps the errors the gateway made (GraphQL errors all the way down: codes, operation ids) and
 * hides anything else behind `message`, logging it. Errors are told apart by name, not
 * `instanceof`: graphql ships two builds (CommonJS and ESM) that a bundler or test runner may load
 * side by side, and an error of the other copy would be masked.
 */
function maskUnexpected(error: unknown, message: string, logger: Logger): Error {
  let inner: unknown = error
  while (isNamed(inner, 'GraphQLError') && (inner as GraphQLError).originalError)
    inner = (inner as GraphQLError).originalError
  if (isNamed(inner, 'GraphQLError')) return error as Error
  logger.error({ err: inner }, 'unexpected error in a GraphQL request (answered as masked)')
  return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } })
}

function isNamed(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name
}

/** What a repeated idempotency key answers: the first call's answer, refusal, or its unknown outcome. */
function replay(record: IdempotencyRecord, mutation: string, sameInput: boolean): unknown {
  const extensions = { operationId: record.operationId }
  if (!sameInput)
    throw new GraphQLError(
      `this idempotency key was used for ${record.mutation} with other input: use a new key for a new command`,
      { extensions: { ...extensions, code: 'IDEMPOTENCY_KEY_REUSED' } },
    )
  if (record.answer !== undefined) return record.answer
  if (record.refusal)
    throw new GraphQLError(record.refusal.message, { extensions: record.refusal.extensions })
  throw new GraphQLError(
    `${mutation} with this idempotency key is still running, or its outcome is unknown. Query operation(id: "${record.operationId}") before sending it with a new key`,
    { extensions: { ...extensions, code: 'OUTCOME_UNKNOWN' } },
  )
}

const validKey = (key: unknown): key is string =>
  typeof key === 'string' && key.length >= 1 && key.length <= 200 && !key.includes('\u0000')

/**
 * Gives each mutation field its own operation id, and every error of it that id. A mutation that
 * takes an `idempotencyKey` argument runs once per (caller, mutation, key): a repeat gets the
 * first call's answer or refusal (or, while its outcome is unknown, says so with its id).
 */
function withOperationIds(
  resolvers: Record<string, Record<string, Resolver>>,
  keys: IdempotencyKeys,
  actorExists: (userId: string) => Promise<boolean>,
  timeoutMs: number,
  logger: Logger,
): Record<string, Record<string, Resolver>> {
  const mutations = resolvers.Mutation
  if (!mutations) return resolvers
  const wrapped = Object.entries(mutations).map(([field, resolve]) => {
    const resolver: Resolver = async (parent, args: Record<string, unknown>, ctx) => {
      const { idempotencyKey, ...input } = args ?? {}
      const operationId = newId()
      let claimId: string | undefined
      if (idempotencyKey !== undefined && idempotencyKey !== null) {
        if (!validKey(idempotencyKey))
          throw new GraphQLError('idempotencyKey: 1 to 200 characters, no NUL', {
            extensions: { code: 'BAD_USER_INPUT', field: 'idempotencyKey', operationId },
          })
        const actor = ctx.actor?.userId ?? null
        const claim = await keys.claim({
          key: idempotencyKey,
          actor,
          mutation: field,
          input,
          operationId,
        })
        if (!claim.first) return replay(claim.record, field, keys.sameInput(claim.record, input))
        claimId = claim.id
      }
      try {
        if (ctx.actor && !(await actorExists(ctx.actor.userId)))
          throw new GraphQLError('the user of this token no longer exists: log in again', {
            extensions: { code: 'UNAUTHENTICATED' },
          })
        const result = await resolve(parent, input, { ...ctx, operationId })
        if (claimId) await keys.answered(claimId, result)
        return result
      } catch (error) {
        const answer = mutationError(
          error,
          field,
          operationId,
          timeoutMs,
          ctx.traceId ? logger.child({ traceId: ctx.traceId }) : logger,
        )
        const code = answer.extensions.code
        if (claimId && code === 'SERVICE_UNAVAILABLE') await keys.release(claimId)
        else if (claimId && code !== 'OUTCOME_UNKNOWN' && code !== 'INTERNAL')
          await keys.refused(claimId, { message: answer.message, extensions: answer.extensions })
        throw answer
      }
    }
    return [field, resolver] as const
  })
  return { ...resolvers, Mutation: Object.fromEntries(wrapped) }
}

/** What the gateway does beyond serving the modules' pieces. */
export interface GatewayOptions {
  /**
   * The service and method that return a user's record (null when there is none). Given, every
   * mutation made with a token first checks that its user still exists, so a deleted user's
   * token, valid until it expires, acts as no one.
   */
  actorLookup?: { service: string; method: string }
  /**
   * Where each GraphQL request is reported, by operation type, root field and outcome.
   * @default `config.metrics` when it takes them (`prometheusMetrics()` does)
   */
  metrics?: GatewayMetrics
}

/**
 * The graphql-yoga gateway: one schema made of each module's piece, plus `operation(id)` (the
 * chain of any operation), and `POST /webhooks/<name>` for each webhook a module declares.
 * Resolvers and webhooks reach their service over request-reply. Rejects before connecting to
 * anything when a webhook has no secret outside development.
 */
export async function startGateway(
  config: ServiceConfig,
  logger: Logger,
  modules: readonly ServiceModule[],
  options: GatewayOptions = {},
): Promise<Gateway> {
  if (config.authSecretIsDevelopmentDefault) {
    logger.warn('AUTH_SECRET is not set: login tokens are signed with a development secret')
  }
  const webhooks = webhooksOf(modules, config, logger)
  const nc: NatsConnection = await connectToNats(config.nats, 'gateway')
  const mongo = await new MongoClient(config.mongodbUrl).connect()
  const eventStoreDb = mongo.db(eventStoreDatabase(config))
  const keys = idempotencyKeys(eventStoreDb)
  const natsState = watchNatsState(nc)
  const pingMongo = cachedMongoPing(eventStoreDb)
  let stopping = false
  // Requests carry the actor this gateway authenticated, signed so services can trust it.
  const rpc = rpcClient(
    nc,
    {
      ...(await loadRpcSettings(eventStoreDb, config.rpcPrefix, config.signingKey)),
      tracing: config.tracing,
    },
    logger,
    config.rpcTimeoutMs,
  )
  const lookup = options.actorLookup
  const actorExists = async (userId: string) =>
    !lookup || (await rpc.call(lookup.service, lookup.method, { id: userId })) !== null

  const call = (service: string, method: string, input: unknown, ctx: Context) => {
    if (ctx.badToken) {
      throw new GraphQLError('the token is invalid or expired: log in again', {
        extensions: { code: 'UNAUTHENTICATED' },
      })
    }
    const call = rpc.call(service, method, input, {
      actor: ctx.actor,
      operationId: ctx.operationId,
    })
    // A mutation's errors are turned into answers by `withOperationIds`.
    return ctx.operationId ? call : call.catch(toGraphQLError)
  }

  const pieces = modules.flatMap((module) =>
    module.gateway
      ? [
          {
            typeDefs: module.gateway.typeDefs,
            resolvers: withOperationIds(
              module.gateway.resolvers((method, input, ctx) =>
                call(module.name, method, input, ctx),
              ),
              keys,
              actorExists,
              config.rpcTimeoutMs,
              logger,
            ),
          },
        ]
      : [],
  )
  const limits = gatewayLimitOptions(config.gatewayLimits, logger)
  const metrics = options.metrics ?? gatewayMetricsOf(config.metrics)
  const yoga = createYoga<object, Context>({
    schema: createSchema<Context>({
      // Types of one name (Query, Mutation) from several pieces are merged into one.
      typeDefs: [operationTypeDefs, ...pieces.map((p) => p.typeDefs)],
      resolvers: [
        {
          Query: {
            operation: (_: unknown, { id }: { id: string }) =>
              operationChainForGraphQL(eventStoreDb, id),
          },
        },
        ...pieces.map((p) => p.resolvers),
      ],
    }),
    context: ({ request }) => {
      const header = request.headers.get('authorization')
      if (!header) return { actor: null, badToken: false }
      const userId = verifyToken(header.replace(/^Bearer\s+/i, ''), config.authSecret)
      return { actor: userId ? { userId } : null, badToken: !userId }
    },
    logging: false,
    // Bad input and failed mutations come back as errors with codes; internals stay in the log.
    maskedErrors: { maskError: (error, message) => maskUnexpected(error, message, logger) },
    // Aliases, depth, cost, tokens, directives, mutations and body size: refused before any call.
    plugins: [
      // First, so the execution's span is current for everything after it.
      ...(config.tracing ? [gatewayTracingPlugin(config.tracing)] : []),
      ...(metrics ? [gatewayMetricsPlugin(metrics, logger)] : []),
      ...limits.plugins,
    ],
    maxRequestBodySize: limits.maxRequestBodySize,
  })

  const serveWebhook = webhookServer(webhooks, {
    keys,
    rpc,
    timeoutMs: config.rpcTimeoutMs,
    logger,
  })
  // yoga's handler is async; node:http wants a plain listener. Other paths stay yoga's.
  const server: Server = createServer((req, res) => {
    if (!serveWebhook(req, res)) void yoga(req, res)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, resolve)
  })
  const { port } = server.address() as { port: number }
  logger.info({ port }, 'gateway listening')
  const origin = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`
  return {
    url: `${origin}/graphql`,
    webhookUrls: Object.fromEntries(
      webhooks.map((webhook) => [webhook.name, `${origin}/webhooks/${webhook.name}`]),
    ),
    health: async () =>
      gatewayHealth(
        natsState.state(),
        // A closed client would reconnect to answer a ping: a stopping gateway asks nothing.
        stopping ? { state: 'not checked', reason: 'the gateway is stopping' } : await pingMongo(),
        stopping,
      ),
    async stop() {
      stopping = true
      await new Promise((resolve) => server.close(resolve))
      await nc.drain().catch(() => nc.close())
      natsState.stop()
      await mongo.close()
    },
  }
}
