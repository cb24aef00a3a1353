import { prometheusMetrics } from '@event-driven/core'
import { createTestNamespace, freePort, getTestServers, promtoolCheck } from '@event-driven/testing'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type Gateway } from './gateway.ts'
import { defineServiceModule, type RunningService } from './module.ts'
import { startProbeServer, type ProbeServer } from './probe-server.ts'
import { ServiceError } from './rpc.ts'
import { createRuntime } from './runtime.ts'
import { testServiceConfig } from './testing/service-config.ts'

// The gateway counts and times each GraphQL request on the process's metrics (`config.metrics`),
// which the probe server serves at /metrics: real requests through NATS to a real service.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'gateway metrics')
const metrics = prometheusMetrics()

const notes = defineServiceModule({
  name: 'notes',
  async start(config, logger) {
    const runtime = await createRuntime('notes', config, logger)
    await runtime.start({
      list: async () => ['first'],
      write: async (input) => {
        if ((input as { text: string }).text === '') throw new ServiceError('EMPTY', 'no text')
        return { text: (input as { text: string }).text }
      },
    })
    return runtime
  },
  gateway: {
    typeDefs: /* GraphQL */ `
      type Note {
        text: String!
      }
      type Query {
        notes: [String!]!
      }
      type Mutation {
        noteWrite(text: String!): Note!
      }
    `,
    resolvers: (call) => ({
      Query: { notes: (_, __, ctx) => call('list', {}, ctx) },
      Mutation: { noteWrite: (_, args, ctx) => call('write', args, ctx) },
    }),
  },
})

let gateway: Gateway
let service: RunningService
let probe: ProbeServer
beforeAll(async () => {
  const config = testServiceConfig(servers, ns, { port: await freePort(), metrics })
  const logger = pino({ level: 'silent' })
  service = await notes.start(config, logger)
  gateway = await startGateway(config, logger, [notes])
  probe = await startProbeServer({
    host: '127.0.0.1',
    port: 0,
    checks: [],
    metrics: metrics.scrape,
  })
})
afterAll(async () => {
  await probe.close()
  await gateway.stop()
  await service.stop()
  await ns.cleanup()
})

async function graphql(query: string, operationName?: string) {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, ...(operationName ? { operationName } : {}) }),
  })
  return (await response.json()) as { data?: unknown; errors?: unknown[] }
}

/** A series' value in the probe server's /metrics (0 when it is not there). */
async function scraped(series: string): Promise<number> {
  const body = await (await fetch(`${probe.url}/metrics`)).text()
  const line = body.split('\n').find((l) => l.startsWith(`${series} `))
  return line ? Number(line.slice(series.length + 1)) : 0
}

const requests = (labels: string) => `event_driven_graphql_requests_total{${labels}}`

describe('GraphQL request metrics of a running gateway', () => {
  it('count queries and mutations by root field and outcome, and time them; served at /metrics', async () => {
    expect(await graphql('{ notes }')).toEqual({ data: { notes: ['first'] } })
    expect(await graphql('query Home { notes }', 'Home')).toEqual({ data: { notes: ['first'] } })
    expect((await graphql('mutation { noteWrite(text: "hi") { text } }')).data).toEqual({
      noteWrite: { text: 'hi' },
    })
    expect((await graphql('mutation { noteWrite(text: "") { text } }')).errors).toHaveLength(1)

    expect(await scraped(requests('operation_type="query",root_field="notes",outcome="ok"'))).toBe(
      2,
    )
    expect(
      await scraped(requests('operation_type="mutation",root_field="noteWrite",outcome="ok"')),
    ).toBe(1)
    expect(
      await scraped(requests('operation_type="mutation",root_field="noteWrite",outcome="error"')),
    ).toBe(1)
    expect(
      await scraped(
        'event_driven_graphql_request_duration_seconds_count{operation_type="mutation",root_field="noteWrite"}',
      ),
    ).toBe(2)
  })

  it('a forged root field or operation name is counted as other, never as itself', async () => {
    const forged = 'forged"} 1\nevent_driven_injected{a="'
    expect((await graphql('{ forgedRootField }')).errors).toHaveLength(1)
    expect((await graphql('{ notes }', forged)).errors).toHaveLength(1)
    expect(
      await scraped(requests('operation_type="query",root_field="other",outcome="error"')),
    ).toBe(1)
    expect(
      await scraped(requests('operation_type="other",root_field="other",outcome="error"')),
    ).toBe(1)
    const body = await (await fetch(`${probe.url}/metrics`)).text()
    expect(body).not.toMatch(/forged|injected/i)
    expect(await promtoolCheck(body)).toEqual({ code: 0, output: '' })
  })
})
