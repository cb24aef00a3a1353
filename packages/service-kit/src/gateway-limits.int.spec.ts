import { createTestNamespace, freePort, getTestServers } from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServiceConfig } from './testing/service-config.ts'
import { startGateway, type Gateway } from './gateway.ts'
import { defaultGatewayLimits } from './gateway-limits.ts'
import { defineServiceModule, type RunningService } from './module.ts'
import { createRuntime } from './runtime.ts'

// The perimeter: a request over one of the gateway's limits is refused with its own code before
// any service is called (nothing recorded), the refusal is logged without the query, and the
// gateway goes on serving. Found with curl: 1,000 aliases of a login in one request ran 1,000
// operations in 65 s.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'gateway limits')
const mongo = await new MongoClient(servers.mongodbUrl).connect()

/** Calls that reached the service, by method. */
const calls = { attempt: 0, store: 0, ping: 0 }

const vault = defineServiceModule({
  name: 'vault',
  async start(config, logger) {
    const runtime = await createRuntime('vault', config, logger)
    const record = async (name: string, operationId: string | undefined) => {
      const op = await runtime.core.startOperation({ id: operationId, name })
      await op.complete()
      return { operationId: op.id }
    }
    await runtime.start({
      attempt: async (_input, _actor, call) => {
        calls.attempt++
        return record('vaultAttempt', call.operationId)
      },
      store: async (_input, _actor, call) => {
        calls.store++
        return record('vaultStore', call.operationId)
      },
      ping: async () => {
        calls.ping++
        return 'pong'
      },
    })
    return runtime
  },
  gateway: {
    typeDefs: /* GraphQL */ `
      type VaultPayload {
        operationId: ID!
      }
      "Nests as deep as a query asks: what a depth limit is for."
      type VaultNode {
        id: ID!
        child: VaultNode
      }
      type Query {
        ping: String!
        node: VaultNode!
      }
      type Mutation {
        attempt(username: String!, password: String!): VaultPayload!
        store(text: String!): VaultPayload!
      }
    `,
    resolvers: (call) => ({
      Query: {
        ping: (_, __, ctx) => call('ping', {}, ctx),
        node: (_, __, ctx) => call('ping', {}, ctx).then(() => ({ id: 'root' })),
      },
      VaultNode: { child: (node) => ({ id: `${(node as { id: string }).id}.child` }) },
      Mutation: {
        attempt: (_, args, ctx) => call('attempt', args, ctx),
        store: (_, args, ctx) => call('store', args, ctx),
      },
    }),
  },
})

let gateway: Gateway
/** The same gateway with a token limit raised: shows the alias limit on its own. */
let manyTokens: Gateway
let service: RunningService
const logged: Record<string, unknown>[] = []
beforeAll(async () => {
  const config = testServiceConfig(servers, ns, { port: await freePort() })
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) },
  )
  service = await vault.start(config, logger)
  gateway = await startGateway(config, logger, [vault])
  manyTokens = await startGateway(
    { ...config, port: await freePort(), gatewayLimits: { maxTokens: 100_000 } },
    logger,
    [vault],
  )
})
afterAll(async () => {
  await gateway?.stop()
  await manyTokens?.stop()
  await service?.stop()
  await mongo.close()
  await ns.cleanup()
})

interface Answer {
  status: number
  data?: Record<string, unknown> | null
  errors?: { message: string; extensions: Record<string, unknown> & { code: string } }[]
}

async function post(url: string, body: string | ReadableStream<Uint8Array>): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    ...(typeof body === 'string' ? {} : { duplex: 'half' }),
  })
  return { status: response.status, ...((await response.json()) as Omit<Answer, 'status'>) }
}

const gql = (query: string, variables?: Record<string, unknown>, url = gateway.url) =>
  post(url, JSON.stringify({ query, variables }))

/** The codes of an answer's errors. */
const codes = (answer: Answer) => (answer.errors ?? []).map((error) => error.extensions.code)

async function recorded(name: string) {
  return mongo.db(`${ns.database}_event_driven`).collection('operations').countDocuments({ name })
}

/** A refusal's log line: warn, its code, the limit and what was measured; never the query. */
function refusalsLogged(code: string) {
  return logged.filter((line) => line.code === code)
}

/** After a refusal, the same gateway answers a normal request, and its service gets the call. */
async function stillServes(url = gateway.url) {
  const before = calls.attempt
  const answer = await gql(
    'mutation { attempt(username: "ada", password: "correct horse") { operationId } }',
    undefined,
    url,
  )
  expect(answer.errors).toBeUndefined()
  expect(answer.data).toEqual({ attempt: { operationId: expect.any(String) as string } })
  expect(calls.attempt).toBe(before + 1)
}

const aliasesOf = (count: number, field: (i: number) => string) =>
  Array.from({ length: count }, (_, i) => `a${i}: ${field(i)}`).join(' ')
const attempts = (count: number) =>
  `mutation { ${aliasesOf(count, (i) => `attempt(username: "ada", password: "guess-${i}") { operationId }`)} }`

describe('a request over a limit is refused before any service is called', () => {
  it('1,000 aliases of a mutation: refused whole (TOO_MANY_TOKENS by default, TOO_MANY_ALIASES when tokens allow it), nothing recorded, logged without the query', async () => {
    const before = { calls: calls.attempt, recorded: await recorded('vaultAttempt') }
    const byTokens = await gql(attempts(1_000))
    expect(byTokens.data ?? null).toBeNull()
    expect(codes(byTokens)).toEqual(['TOO_MANY_TOKENS'])
    expect(byTokens.errors![0]!.message).toBe(
      'the query has more than 1000 tokens; the gateway allows at most 1000',
    )

    const byAliases = await gql(attempts(1_000), undefined, manyTokens.url)
    expect(byAliases.data ?? null).toBeNull()
    expect(codes(byAliases)).toContain('TOO_MANY_ALIASES')
    expect(codes(byAliases)).toContain('TOO_MANY_MUTATIONS')
    expect(byAliases.errors!.find((e) => e.extensions.code === 'TOO_MANY_ALIASES')).toMatchObject({
      message: 'the query has 1000 aliases; the gateway allows at most 15',
      extensions: { limit: 15, measured: 1000 },
    })

    expect(calls.attempt).toBe(before.calls)
    expect(await recorded('vaultAttempt')).toBe(before.recorded)
    expect(refusalsLogged('TOO_MANY_TOKENS')).toContainEqual(
      expect.objectContaining({
        level: 40,
        limit: 1000,
        msg: 'refused a GraphQL request over a gateway limit',
      }),
    )
    expect(refusalsLogged('TOO_MANY_ALIASES')).toContainEqual(
      expect.objectContaining({ level: 40, limit: 15, measured: 1000 }),
    )
    expect(JSON.stringify(logged)).not.toContain('guess-')
    await stillServes()
    await stillServes(manyTokens.url)
  })

  it('16 aliases: TOO_MANY_ALIASES; 15 pass', async () => {
    const refused = await gql(`{ ${aliasesOf(16, () => 'ping')} }`)
    expect(codes(refused)).toEqual(['TOO_MANY_ALIASES'])
    expect(refused.errors![0]!.extensions).toMatchObject({ limit: 15, measured: 16 })
    const before = calls.ping
    const served = await gql(`{ ${aliasesOf(15, () => 'ping')} }`)
    expect(served.errors).toBeUndefined()
    expect(calls.ping).toBe(before + 15)
    await stillServes()
  })

  it('more mutations than maxMutations, under the alias limit: TOO_MANY_MUTATIONS, none run; the limit itself runs', async () => {
    const before = { calls: calls.attempt, recorded: await recorded('vaultAttempt') }
    const limit = defaultGatewayLimits.maxMutations
    const refused = await gql(attempts(limit + 1))
    expect(codes(refused)).toEqual(['TOO_MANY_MUTATIONS'])
    expect(refused.errors![0]).toMatchObject({
      message: `the request has ${limit + 1} mutations; the gateway runs at most ${limit} in one request: send the others in their own requests`,
      extensions: { limit, measured: limit + 1 },
    })
    // Through a fragment too.
    const viaFragment = await gql(
      `mutation { ...Tries } fragment Tries on Mutation { ${aliasesOf(limit + 1, () => 'store(text: "x") { operationId }')} }`,
    )
    expect(codes(viaFragment)).toEqual(['TOO_MANY_MUTATIONS'])
    expect(calls.attempt).toBe(before.calls)
    expect(await recorded('vaultAttempt')).toBe(before.recorded)

    const served = await gql(attempts(limit))
    expect(served.errors).toBeUndefined()
    expect(calls.attempt).toBe(before.calls + limit)
    await stillServes()
  })

  it('depth 50: QUERY_TOO_DEEP; depth 10 passes', async () => {
    const nested = (depth: number) =>
      `{ node { ${'child { '.repeat(depth - 2)}id${' }'.repeat(depth - 2)} } }`
    const before = calls.ping
    const refused = await gql(nested(50))
    expect(codes(refused)).toContain('QUERY_TOO_DEEP')
    expect(refused.errors!.find((e) => e.extensions.code === 'QUERY_TOO_DEEP')).toMatchObject({
      message: 'the query is nested 50 levels deep; the gateway allows at most 10',
      extensions: { limit: 10, measured: 50 },
    })
    expect(calls.ping).toBe(before)
    expect(refusalsLogged('QUERY_TOO_DEEP')).toContainEqual(
      expect.objectContaining({ limit: 10, measured: 50 }),
    )
    expect(codes(await gql(nested(11)))).toContain('QUERY_TOO_DEEP')
    const served = await gql(nested(10))
    expect(served.errors).toBeUndefined()
    await stillServes()
  })

  it('a costly query: QUERY_TOO_COSTLY', async () => {
    // 700 fields one level down: 2 + 1.5 × 700 = 1052.
    const refused = await gql(`{ node { ${'id '.repeat(700)}} }`)
    expect(codes(refused)).toEqual(['QUERY_TOO_COSTLY'])
    expect(refused.errors![0]!.extensions).toMatchObject({ limit: 1000, measured: 1052 })
    expect(codes(await gql(`{ node { ${'id '.repeat(600)}} }`))).toEqual([])
    await stillServes()
  })

  it('too many directives: TOO_MANY_DIRECTIVES', async () => {
    const refused = await gql(`{ node { ${'id @include(if: true) '.repeat(11)}} }`)
    expect(codes(refused)).toEqual(['TOO_MANY_DIRECTIVES'])
    expect(refused.errors![0]!.extensions).toMatchObject({ limit: 10, measured: 11 })
    await stillServes()
  })

  it('a refusal answered from yoga’s caches (the same query again) is logged again', async () => {
    const query = `{ ${aliasesOf(17, () => 'ping')} }`
    const count = () => logged.filter((line) => line.measured === 17).length
    await gql(query)
    const once = count()
    expect(once).toBeGreaterThan(0)
    expect(codes(await gql(query))).toEqual(['TOO_MANY_ALIASES'])
    expect(count()).toBe(once * 2)
    const tokens = () => refusalsLogged('TOO_MANY_TOKENS').length
    const tokensBefore = tokens()
    await gql(attempts(300))
    await gql(attempts(300))
    expect(tokens()).toBe(tokensBefore + 2)
  })
})

describe('large inputs never reach NATS', () => {
  const store = (text: string) =>
    gql('mutation ($text: String!) { store(text: $text) { operationId } }', { text })

  it('a 1.5 MB argument: PAYLOAD_TOO_LARGE from the request check (over NATS max payload), with its operation id; nothing sent, nothing recorded', async () => {
    const before = { calls: calls.store, recorded: await recorded('vaultStore') }
    const answer = await store('x'.repeat(1_500_000))
    expect(answer.status).toBe(200)
    expect(answer.errors![0]!.extensions).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      operationId: expect.any(String) as string,
    })
    expect(answer.errors![0]!.message).toMatch(/^the input is too large: \d+ bytes/)
    // Logged once, by the request check, not as a gateway limit.
    expect(logged).toContainEqual(
      expect.objectContaining({ msg: 'refused a request larger than NATS carries' }),
    )
    expect(refusalsLogged('PAYLOAD_TOO_LARGE')).toEqual([])
    expect(calls.store).toBe(before.calls)
    expect(await recorded('vaultStore')).toBe(before.recorded)
    await stillServes()
  })

  it('a 2 MB argument (2,000,000 characters, under the 2 MiB body limit): PAYLOAD_TOO_LARGE from the request check', async () => {
    const before = calls.store
    const answer = await store('x'.repeat(2_000_000))
    expect(codes(answer)).toEqual(['PAYLOAD_TOO_LARGE'])
    expect(answer.errors![0]!.extensions.operationId).toEqual(expect.any(String))
    expect(calls.store).toBe(before)
    await stillServes()
  })

  it('a 3 MB body: 413 PAYLOAD_TOO_LARGE from its Content-Length, before it is read; logged', async () => {
    const before = calls.store
    const body = JSON.stringify({
      query: 'mutation ($text: String!) { store(text: $text) { operationId } }',
      variables: { text: 'x'.repeat(3_000_000) },
    })
    const answer = await post(gateway.url, body)
    expect(answer.status).toBe(413)
    expect(answer.errors).toEqual([
      {
        message: `the request body is ${body.length} bytes; the gateway accepts at most ${defaultGatewayLimits.maxBodyBytes} bytes`,
        extensions: {
          code: 'PAYLOAD_TOO_LARGE',
          limit: defaultGatewayLimits.maxBodyBytes,
          measured: body.length,
        },
      },
    ])
    expect(refusalsLogged('PAYLOAD_TOO_LARGE')).toContainEqual(
      expect.objectContaining({
        level: 40,
        limit: defaultGatewayLimits.maxBodyBytes,
        measured: body.length,
      }),
    )
    expect(calls.store).toBe(before)
    await stillServes()
  })

  it('a 3 MB body sent without Content-Length (chunked): 413 PAYLOAD_TOO_LARGE once it passes the limit', async () => {
    const before = calls.store
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(
          new TextEncoder().encode(
            '{"query":"mutation ($t: String!) { store(text: $t) { operationId } }","variables":{"t":"',
          ),
        )
      },
      pull(controller) {
        if (sent >= 3_000_000) {
          controller.enqueue(new TextEncoder().encode('"}}'))
          controller.close()
          return
        }
        sent += chunk.length
        controller.enqueue(chunk)
      },
    })
    const answer = await post(gateway.url, body)
    expect(answer.status).toBe(413)
    expect(answer.errors).toEqual([
      {
        message: `the request body is larger than ${defaultGatewayLimits.maxBodyBytes} bytes`,
        extensions: { code: 'PAYLOAD_TOO_LARGE', limit: defaultGatewayLimits.maxBodyBytes },
      },
    ])
    expect(calls.store).toBe(before)
    await stillServes()
  })
})
