import { prometheusMetrics, type GraphqlRequest } from '@event-driven/core'
import fc from 'fast-check'
import { GraphQLError, parse, type DocumentNode } from 'graphql'
import { createSchema, createYoga } from 'graphql-yoga'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { gatewayMetricsPlugin, requestLabels, rootFieldsOf } from './gateway-metrics.ts'

// GraphQL requests are labelled by operation type and root field: a client chooses its query and
// its operation name, so only names the schema holds may become label values; anything else is
// `other`, and the number of series stays what the schema makes it.
const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Query {
      posts: [String!]!
      post(id: ID!): String
    }
    type Mutation {
      postCreate(title: String!): String!
    }
  `,
  resolvers: {
    Query: { posts: () => ['a'], post: () => null },
    Mutation: {
      postCreate: (_: unknown, { title }: { title: string }) => {
        if (title === '') throw new GraphQLError('a title', { extensions: { code: 'BAD_INPUT' } })
        return title
      },
    },
  },
})
const rootFields = rootFieldsOf(schema)
const allowedRootFields = new Set(['posts', 'post', 'postCreate', 'other'])
const allowedTypes = new Set(['query', 'mutation', 'subscription', 'other'])

function parsed(query: string): DocumentNode | undefined {
  try {
    return parse(query)
  } catch {
    return undefined
  }
}

describe('request labels', () => {
  it.each([
    ['{ posts }', undefined, 'query', 'posts'],
    ['query Feed { post(id: 1) posts }', undefined, 'query', 'post'],
    ['{ latest: posts }', undefined, 'query', 'posts'],
    ['{ ...F } fragment F on Query { post(id: 1) }', undefined, 'query', 'post'],
    ['{ ... on Query { posts } }', undefined, 'query', 'posts'],
    ['mutation { postCreate(title: "t") }', undefined, 'mutation', 'postCreate'],
    ['mutation { posts }', undefined, 'mutation', 'other'],
    ['{ __typename }', undefined, 'query', 'other'],
    ['{ notInTheSchema }', undefined, 'query', 'other'],
    ['{ ...A } fragment A on Query { ...A }', undefined, 'query', 'other'],
    ['query A { posts } mutation B { postCreate(title: "t") }', 'B', 'mutation', 'postCreate'],
    ['query A { posts } query B { post(id: 1) }', undefined, 'other', 'other'],
    ['query A { posts }', 'posts', 'other', 'other'],
  ])('%s (operation %s): %s %s', (query, operationName, operationType, rootField) => {
    expect(requestLabels(parsed(query), operationName, rootFields)).toEqual({
      operationType,
      rootField,
    })
  })

  it('any root field and operation name a client sends: the labels are the schema’s or other', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[_A-Za-z][_0-9A-Za-z]{0,30}$/),
        fc.oneof(fc.string(), fc.constant(undefined)),
        fc.constantFrom('query', 'mutation', 'subscription'),
        (field, operationName, type) => {
          const query = `${type} ${operationName && /^\w+$/.test(operationName) ? operationName : ''} { ${field} }`
          const labels = requestLabels(parsed(query), operationName, rootFields)
          expect(allowedTypes.has(labels.operationType)).toBe(true)
          expect(allowedRootFields.has(labels.rootField)).toBe(true)
          if (!['posts', 'post', 'postCreate'].includes(field))
            expect(labels.rootField).toBe('other')
        },
      ),
    )
  })

  it('any text as a query: the labels are the schema’s or other', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string()), (query, operationName) => {
        const labels = requestLabels(parsed(query), operationName, rootFields)
        expect(allowedTypes.has(labels.operationType)).toBe(true)
        expect(allowedRootFields.has(labels.rootField)).toBe(true)
      }),
    )
  })
})

describe('the yoga plugin', () => {
  const yogaWith = (graphqlRequest: (request: GraphqlRequest) => void) =>
    createYoga({
      schema,
      logging: false,
      plugins: [gatewayMetricsPlugin({ graphqlRequest }, pino({ level: 'silent' }))],
    })
  const post = (yoga: ReturnType<typeof yogaWith>, body: unknown) =>
    yoga.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })

  it('reports each request once, timed, with its outcome; forged names and operation names become other', async () => {
    const reported: GraphqlRequest[] = []
    const yoga = yogaWith((request) => reported.push(request))
    await post(yoga, { query: '{ posts }' })
    await post(yoga, { query: 'mutation { postCreate(title: "") }' })
    await post(yoga, { query: '{ forgedField }' })
    await post(yoga, { query: '{ posts }', operationName: 'x"} 1\ninjected{' })
    await post(yoga, { query: 'query Mine { posts }', operationName: 'NotMine' })
    await post(yoga, { query: '{ posts' })
    expect(reported.map(({ durationMs: _, ...labels }) => labels)).toEqual([
      { operationType: 'query', rootField: 'posts', outcome: 'ok' },
      { operationType: 'mutation', rootField: 'postCreate', outcome: 'error' },
      { operationType: 'query', rootField: 'other', outcome: 'error' },
      { operationType: 'other', rootField: 'other', outcome: 'error' },
      { operationType: 'other', rootField: 'other', outcome: 'error' },
      { operationType: 'other', rootField: 'other', outcome: 'error' },
    ])
    for (const { durationMs } of reported) expect(durationMs).toBeGreaterThanOrEqual(0)
  })

  it('on a Prometheus registry: one series per schema root field, whatever clients send', async () => {
    const metrics = prometheusMetrics()
    const yoga = yogaWith((request) => metrics.graphqlRequest(request))
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), async (field, operationName) => {
        await post(yoga, { query: `{ ${field} }`, operationName })
      }),
      { numRuns: 50 },
    )
    await post(yoga, { query: '{ posts }' })
    const { body } = await metrics.scrape()
    const rootFieldValues = new Set(
      [...body.matchAll(/^event_driven_graphql_\w+\{[^}]*root_field="([^"]*)"/gm)].map((m) => m[1]),
    )
    expect([...rootFieldValues].sort()).toEqual(['other', 'posts'])
    expect(body).toContain(
      'event_driven_graphql_requests_total{operation_type="query",root_field="posts",outcome="ok"} 1',
    )
    expect(body).toContain(
      'event_driven_graphql_request_duration_seconds_count{operation_type="query",root_field="posts"} 1',
    )
  })

  it('an observer that throws changes no answer', async () => {
    const yoga = yogaWith(() => {
      throw new Error('observer broke')
    })
    const response = await post(yoga, { query: '{ posts }' })
    expect(await response.json()).toEqual({ data: { posts: ['a'] } })
  })
})
