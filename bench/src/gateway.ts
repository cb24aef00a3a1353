import { createServer } from 'node:http'
import { createSchema, createYoga } from 'graphql-yoga'
import { MongoClient } from 'mongodb'
import { randomUUID } from 'node:crypto'
import { blogEnv, startBlog } from './blog-process.ts'
import type { BenchContext } from './context.ts'
import { startWireCounter, type WireCounter } from './wire-counter.ts'

/** Mutations through a GraphQL gateway, 32 in flight: the blog service, or the plain baseline. */
export interface GatewayResult {
  pipeline: 'framework' | 'baseline'
  mutations: number
  mutationsPerSecond: number
  p50: number
  p99: number
  /**
   * MongoDB requests per mutation, everything included: the mutation's own and, for the blog
   * service, the follow-ups its events start (the author copies in blogs and comments, ledger).
   */
  roundTripsPerMutation: number
  /** The most frequent requests per mutation, by `<command> <collection>`. */
  topRequests: Record<string, number>
}

export interface GatewayPlan {
  seconds: number
  inFlight: number
}

const RENAME = /* GraphQL */ `
  mutation ($f: String!, $l: String!) {
    userUpdateNames(firstName: $f, lastName: $l) {
      operationId
    }
  }
`

async function gql(url: string, query: string, variables: object, token?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  })
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] }
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`)
  return body.data as Record<string, Record<string, unknown>>
}

/**
 * Each of `inFlight` callers sends the next rename as soon as its last one is answered, for
 * `seconds`. Requests the counter saw while idle (heartbeats, relays) are taken off; the
 * follow-ups' requests are counted until the counter is quiet again.
 */
async function load(
  url: string,
  tokens: string[],
  counter: WireCounter,
  plan: GatewayPlan,
): Promise<Omit<GatewayResult, 'pipeline'>> {
  const idleRate = await requestRate(counter, 2_000)
  const latencies: number[] = []
  const before = counter.requests()
  const commandsBefore = counter.byCommand()
  const started = performance.now()
  const deadline = started + plan.seconds * 1000
  await Promise.all(
    tokens.map(async (token, worker) => {
      for (let n = 0; performance.now() < deadline; n++) {
        const t = performance.now()
        await gql(url, RENAME, { f: `Ada${worker}`, l: `Lovelace${n}` }, token)
        latencies.push(performance.now() - t)
      }
    }),
  )
  const elapsed = (performance.now() - started) / 1000
  // Wait for the follow-ups: until a second passes with no more than the idle rate.
  const drainStart = performance.now()
  while ((await requestRate(counter, 1_000)) > idleRate * 2 + 5);
  const quiet = (performance.now() - drainStart) / 1000
  const requests = counter.requests() - before - idleRate * (elapsed + quiet)
  latencies.sort((a, b) => a - b)
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!
  const perMutation = [...counter.byCommand()]
    .map(([name, n]) => [name, (n - (commandsBefore.get(name) ?? 0)) / latencies.length] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
  return {
    topRequests: Object.fromEntries(perMutation.map(([name, n]) => [name, Number(n.toFixed(2))])),
    mutations: latencies.length,
    mutationsPerSecond: latencies.length / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    roundTripsPerMutation: requests / latencies.length,
  }
}

async function requestRate(counter: WireCounter, ms: number): Promise<number> {
  const before = counter.requests()
  await new Promise((resolve) => setTimeout(resolve, ms))
  return ((counter.requests() - before) * 1000) / ms
}

/**
 * The blog service (all of it in one process, as `pnpm start` runs it), its MongoDB requests
 * counted on the way. Each caller is a user of its own with a blog and a comment, so a rename
 * has author copies to update.
 */
export async function measureBlogGateway(
  ctx: BenchContext,
  plan: GatewayPlan,
  log: (line: string) => void,
): Promise<GatewayResult> {
  const counter = await startWireCounter(ctx.mongodbUrl)
  const env = await blogEnv(ctx, 'gateway', counter.url)
  const blog = await startBlog(env).catch(async (error: unknown) => {
    await counter.close()
    throw error
  })
  try {
    const url = `http://127.0.0.1:${env.PORT}/graphql`
    log(`gateway: ${plan.inFlight} users, each with a blog and a comment`)
    const tokens: string[] = []
    for (let i = 0; i < plan.inFlight; i++) {
      const username = `bench_${i}`
      await gql(
        url,
        `mutation ($i: UserRegisterInput!) { userRegister(input: $i) { operationId } }`,
        {
          i: { username, password: 'correct-horse', firstName: 'Ada', lastName: 'Lovelace' },
        },
      )
      const { userLogin } = await gql(
        url,
        `mutation ($u: String!, $p: String!) { userLogin(username: $u, password: $p) { token } }`,
        { u: username, p: 'correct-horse' },
      )
      const token = String(userLogin!.token)
      const { blogCreate } = await gql(
        url,
        `mutation { blogCreate(title: "Notes", content: "On the engine") { blog { id } } }`,
        {},
        token,
      )
      const blogId = String((blogCreate!.blog as { id: string }).id)
      await gql(
        url,
        `mutation ($b: ID!) { commentCreate(blogId: $b, content: "Yes") { operationId } }`,
        { b: blogId },
        token,
      )
      tokens.push(token)
    }
    log(`gateway: blog service, ${plan.inFlight} renames in flight for ${plan.seconds} s`)
    return { pipeline: 'framework', ...(await load(url, tokens, counter, plan)) }
  } finally {
    await blog.stop()
    await counter.close()
  }
}

/**
 * The baseline: a plain graphql-yoga resolver that makes the same writes with the `mongodb`
 * driver, in line: the operation, the user, the event, the author copies in blogs and comments,
 * the operation's end. No outbox, no JetStream, no ledger, no retries: what a hand-written
 * service does when it records the same things.
 */
export async function measureBaselineGateway(
  ctx: BenchContext,
  plan: GatewayPlan,
  log: (line: string) => void,
): Promise<GatewayResult> {
  const counter = await startWireCounter(ctx.mongodbUrl)
  const mongo = await new MongoClient(counter.url).connect()
  const db = mongo.db(ctx.scope('baseline').database)
  const users = db.collection<{
    _id: string
    firstName: string
    lastName: string
    nameVersion: number
  }>('users')
  const schema = createSchema<{ userId: string }>({
    typeDefs: /* GraphQL */ `
      type Payload {
        operationId: ID!
      }
      type Query {
        ok: Boolean
      }
      type Mutation {
        userUpdateNames(firstName: String!, lastName: String!): Payload!
      }
    `,
    resolvers: {
      Mutation: {
        userUpdateNames: async (_, args: { firstName: string; lastName: string }, { userId }) => {
          const operationId = randomUUID()
          const now = new Date()
          await db.collection('operations').insertOne({
            _id: operationId as never,
            name: 'userUpdateNames',
            input: args,
            actor: userId,
            status: 'started',
            startedAt: now,
          })
          const user = await users.findOneAndUpdate(
            { _id: userId },
            {
              $set: { firstName: args.firstName, lastName: args.lastName },
              $inc: { nameVersion: 1 },
            },
            { returnDocument: 'after' },
          )
          await db.collection('events').insertOne({
            _id: randomUUID() as never,
            subject: 'User.nameUpdated',
            operationId,
            data: { userId, ...args, nameVersion: user?.nameVersion },
            createdAt: now,
          })
          const author = { authorFirstName: args.firstName, authorLastName: args.lastName }
          await db.collection('blogs').updateMany({ authorId: userId }, { $set: author })
          await db.collection('comments').updateMany({ authorId: userId }, { $set: author })
          await db
            .collection('operations')
            .updateOne(
              { _id: operationId as never },
              { $set: { status: 'completed', endedAt: new Date() } },
            )
          return { operationId }
        },
      },
    },
  })
  const yoga = createYoga({
    schema,
    context: ({ request }) => ({ userId: (request.headers.get('authorization') ?? '').slice(7) }),
    logging: false,
  })
  const server = createServer((req, res) => void yoga(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/graphql`
  try {
    const tokens = Array.from({ length: plan.inFlight }, (_, i) => `user-${i}`)
    await users.insertMany(
      tokens.map((_id) => ({ _id, firstName: 'Ada', lastName: 'Lovelace', nameVersion: 1 })),
    )
    await db
      .collection('blogs')
      .insertMany(tokens.map((authorId) => ({ authorId, title: 'Notes' })))
    await db
      .collection('comments')
      .insertMany(tokens.map((authorId) => ({ authorId, content: 'Yes' })))
    log(`gateway: plain yoga baseline, ${plan.inFlight} renames in flight for ${plan.seconds} s`)
    return { pipeline: 'baseline', ...(await load(url, tokens, counter, plan)) }
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await mongo.close()
    await counter.close()
  }
}

/** The gateway table: the blog service against the plain baseline, and the targets. */
export function printGateway(results: GatewayResult[]): void {
  const base = results.find((r) => r.pipeline === 'baseline')!
  const blog = results.find((r) => r.pipeline === 'framework')!
  const fmt = (n: number, digits = 0) =>
    n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
  console.log(
    [
      '',
      'gateway, 32 renames in flight   blog service        plain yoga baseline   ratio',
      `mutations/s                     ${fmt(blog.mutationsPerSecond).padEnd(20)}${fmt(base.mutationsPerSecond).padEnd(22)}${fmt(blog.mutationsPerSecond / base.mutationsPerSecond, 2)}×`,
      `p50 / p99 ms                    ${`${fmt(blog.p50)} / ${fmt(blog.p99)}`.padEnd(20)}${`${fmt(base.p50)} / ${fmt(base.p99)}`.padEnd(22)}`,
      `MongoDB requests/mutation       ${fmt(blog.roundTripsPerMutation, 1).padEnd(20)}${fmt(base.roundTripsPerMutation, 1).padEnd(22)}${fmt(blog.roundTripsPerMutation / base.roundTripsPerMutation, 2)}×`,
      '',
    ].join('\n'),
  )
  console.log(
    `blog service requests per mutation, most frequent: ${JSON.stringify(blog.topRequests)}`,
  )
  console.log(
    `${blog.p99 < 250 ? 'met   ' : 'missed'}  gateway p99 at 32 in flight: ${fmt(blog.p99)} ms (target < 250)`,
  )
  console.log(
    `${blog.mutationsPerSecond >= 340 ? 'met   ' : 'missed'}  gateway mutations/s: ${fmt(blog.mutationsPerSecond)} (target ≥ 340, 4× the 85 measured in #18)`,
  )
}
