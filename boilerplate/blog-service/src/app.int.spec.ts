// The whole app in this process against real servers: a user registers through the gateway and
// `operation(id)` shows the command and the event it published, handled by the other services.
// This file ships in every app `npm create event-driven` makes (its `npm test`). The servers:
// NATS_URL, MONGODB_URL and S3_URL from the environment (an app's .env names the local ones
// `npx event-driven servers up` or `docker compose up -d` start), or containers when Docker runs.
import {
  configFromEnv,
  createLogger,
  startGateway,
  type Gateway,
  type RunningService,
} from '@event-driven/service-kit'
import {
  createTestNamespace,
  eventually,
  getTestServers,
  type TestNamespace,
} from '@event-driven/testing'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { blogs } from './blogs/service.ts'
import { comments } from './comments/service.ts'
import { addedServices } from './services.ts'
import { users } from './users/service.ts'

const modules = [users, blogs, comments, ...addedServices]
let ns: TestNamespace
let running: RunningService[] = []
let gateway: Gateway

beforeAll(async () => {
  const servers = await getTestServers()
  ns = createTestNamespace(servers, 'app')
  // Every name of this run (databases, stream, subjects) is the namespace's, so runs never meet.
  const config = configFromEnv({
    NATS_URL: servers.natsUrl,
    MONGODB_URL: servers.mongodbUrl,
    DATABASE_PREFIX: `${ns.database}_`,
    EVENTS_STREAM: `${ns.subjectPrefix}_EVENTS`,
    EVENTS_SUBJECT_PREFIX: ns.subjectPrefix,
    RPC_PREFIX: `${ns.subjectPrefix}_rpc`,
    AUTH_SECRET: 'app-test-secret',
    // The comments service's moderation webhook: outside development it needs a secret.
    WEBHOOK_SECRET_MODERATION: 'whsec_V6Ga1K/OKvLkWqPc4seGXLDHh2JjUuzTr1jXccA0tf4=',
    PORT: '0',
    RETRY_BASE_DELAY_MS: '50',
  })
  const logger = createLogger({ level: 'warn' })
  running = await Promise.all(modules.map((module) => module.start(config, logger)))
  gateway = await startGateway(config, logger, modules, {
    actorLookup: { service: 'users', method: 'get' },
  })
})

afterAll(async () => {
  await gateway?.stop()
  await Promise.all(running.map((service) => service.stop()))
  await ns?.cleanup()
})

async function graphql(query: string, token?: string) {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query }),
  })
  const body = (await response.json()) as {
    data: Record<string, Record<string, unknown>> | null
    errors?: { message: string }[]
  }
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join('; '))
  return body.data!
}

it('records a registration and shows its chain with operation(id)', async () => {
  const registered = await graphql(`
    mutation {
      userRegister(
        input: {
          username: "ada"
          password: "correct-horse"
          firstName: "Ada"
          lastName: "Lovelace"
        }
      ) {
        operationId
        user {
          id
        }
      }
    }
  `)
  const operationId = registered.userRegister!.operationId as string

  // Each service that keeps a copy of users handles User.registered; the chain shows who did.
  await eventually(
    async () => {
      const { operation } = await graphql(
        `{ operation(id: "${operationId}") { name status events { subject handledBy } } }`,
      )
      expect(operation).toMatchObject({
        name: 'userRegister',
        status: 'completed',
        events: [{ subject: 'User.registered' }],
      })
      const [event] = operation!.events as { handledBy: string[] }[]
      expect(event!.handledBy.length).toBeGreaterThan(0)
    },
    { timeoutMs: 20_000 },
  )
})

it('serves a signed-in user: a blog is created under its author', async () => {
  const { userLogin } = await graphql(`
    mutation {
      userLogin(username: "ada", password: "correct-horse") {
        token
      }
    }
  `)
  const { blogCreate } = await graphql(
    `
      mutation {
        blogCreate(title: "First", content: "Hello") {
          operationId
          blog {
            id
            title
          }
        }
      }
    `,
    userLogin!.token as string,
  )
  expect(blogCreate).toMatchObject({ blog: { title: 'First' } })
})
