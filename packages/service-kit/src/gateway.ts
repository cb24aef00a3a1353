import { createServer, type Server } from 'node:http'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { GraphQLError } from 'graphql'
import { createSchema, createYoga } from 'graphql-yoga'
import { MongoClient } from 'mongodb'
import type { Logger } from 'pino'
import { verifyToken } from './auth.ts'
import type { ServiceConfig } from './config.ts'
import type { GatewayContext, ServiceModule } from './module.ts'
import { operationChainForGraphQL, operationTypeDefs } from './operation-chain.ts'
import { callRpc, ServiceError } from './rpc.ts'

type Context = GatewayContext

export interface Gateway {
  url: string
  stop(): Promise<void>
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
 * The graphql-yoga gateway: one schema made of each module's piece, plus `operation(id)` (the
 * chain of any operation). Resolvers reach their service over request-reply as the caller.
 */
export async function startGateway(
  config: ServiceConfig,
  logger: Logger,
  modules: readonly ServiceModule[],
): Promise<Gateway> {
  if (config.authSecretIsDevelopmentDefault) {
    logger.warn('AUTH_SECRET is not set: login tokens are signed with a development secret')
  }
  const nc: NatsConnection = await connect({
    servers: config.natsUrl,
    name: 'gateway',
    maxReconnectAttempts: -1,
  })
  const mongo = await new MongoClient(config.mongodbUrl).connect()
  const eventStoreDb = mongo.db(`${config.databasePrefix}event_driven`)

  const call = (service: string, method: string, input: unknown, ctx: Context) => {
    if (ctx.badToken) {
      throw new GraphQLError('the token is invalid or expired: log in again', {
        extensions: { code: 'UNAUTHENTICATED' },
      })
    }
    return callRpc(nc, config.rpcPrefix, service, method, input, ctx.actor).catch(toGraphQLError)
  }

  const pieces = modules.flatMap((module) =>
    module.gateway
      ? [
          {
            typeDefs: module.gateway.typeDefs,
            resolvers: module.gateway.resolvers((method, input, ctx) =>
              call(module.name, method, input, ctx),
            ),
          },
        ]
      : [],
  )
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
    maskedErrors: true,
  })

  // yoga's handler is async; node:http wants a plain listener.
  const server: Server = createServer((req, res) => void yoga(req, res))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, resolve)
  })
  const { port } = server.address() as { port: number }
  logger.info({ port }, 'gateway listening')
  return {
    url: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}/graphql`,
    async stop() {
      await new Promise((resolve) => server.close(resolve))
      await nc.drain().catch(() => nc.close())
      await mongo.close()
    },
  }
}
