import { createServer, type Server } from 'node:http'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { GraphQLError } from 'graphql'
import { createSchema, createYoga } from 'graphql-yoga'
import { MongoClient } from 'mongodb'
import type { Logger } from 'pino'
import { verifyToken } from '../shared/auth.ts'
import type { BlogServiceConfig } from '../shared/config.ts'
import { callRpc, ServiceError, type Actor } from '../shared/rpc.ts'
import { operationChain } from './operation-chain.ts'
import { typeDefs } from './schema.ts'

interface Context {
  actor: Actor
  /** A token was sent but is forged, malformed or expired. */
  badToken: boolean
}

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

/** The graphql-yoga gateway: one schema over the users, blogs and comments services. */
export async function startGateway(config: BlogServiceConfig, logger: Logger): Promise<Gateway> {
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

  const yoga = createYoga<object, Context>({
    schema: createSchema<Context>({
      typeDefs,
      resolvers: {
        Query: {
          me: (_, __, ctx) => call('users', 'me', {}, ctx),
          user: (_, { id }: { id: string }, ctx) => call('users', 'get', { id }, ctx),
          users: (_, __, ctx) => call('users', 'list', {}, ctx),
          blog: (_, { id }: { id: string }, ctx) => call('blogs', 'get', { id }, ctx),
          blogs: (_, __, ctx) => call('blogs', 'list', {}, ctx),
          comments: (_, { blogId }: { blogId: string }, ctx) =>
            call('comments', 'list', { blogId }, ctx),
          operation: (_, { id }: { id: string }) => operationChain(eventStoreDb, id),
        },
        Mutation: {
          userRegister: (_, { input }: { input: unknown }, ctx) =>
            call('users', 'register', input, ctx),
          userLogin: (_, args: unknown, ctx) => call('users', 'login', args, ctx),
          userUpdateNames: (_, args: unknown, ctx) => call('users', 'updateNames', args, ctx),
          blogCreate: (_, args: unknown, ctx) => call('blogs', 'create', args, ctx),
          blogUpdate: (_, args: unknown, ctx) => call('blogs', 'update', args, ctx),
          commentCreate: (_, args: unknown, ctx) => call('comments', 'create', args, ctx),
        },
      },
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
