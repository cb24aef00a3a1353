import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from './eventually.ts'
import { startJaeger, type Jaeger } from './jaeger.ts'

// The trace backend of the tracing tests: what goes in over OTLP comes back from the query API
// with its parent, its links, its attributes and its events.
const hex = (bytes: number) => randomBytes(bytes).toString('hex')
const string = (key: string, value: string) => ({ key, value: { stringValue: value } })

describe('a Jaeger of its own (startJaeger)', () => {
  let jaeger: Jaeger
  beforeAll(async () => {
    jaeger = await startJaeger()
  })
  afterAll(async () => {
    await jaeger?.stop()
  })

  it('a child span posted as OTLP/JSON comes back with its parent, its link, its attributes and its events', async () => {
    const traceId = hex(16)
    const parentSpanId = hex(8)
    const childSpanId = hex(8)
    const linked = { traceId: hex(16), spanId: hex(8) }
    const startNs = BigInt(Date.now()) * 1_000_000n
    const response = await fetch(`${jaeger.otlpHttpUrl}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [string('service.name', 'jaeger-int-spec')] },
            scopeSpans: [
              {
                scope: { name: 'jaeger.int.spec' },
                spans: [
                  {
                    traceId,
                    spanId: parentSpanId,
                    name: 'publish post.created',
                    kind: 4, // PRODUCER
                    startTimeUnixNano: String(startNs),
                    endTimeUnixNano: String(startNs + 3_000_000n),
                  },
                  {
                    traceId,
                    spanId: childSpanId,
                    parentSpanId,
                    name: 'handle post.created',
                    kind: 5, // CONSUMER
                    startTimeUnixNano: String(startNs + 1_000_000n),
                    endTimeUnixNano: String(startNs + 2_500_000n),
                    attributes: [
                      string('messaging.system', 'nats'),
                      { key: 'messaging.delivery_count', value: { intValue: '2' } },
                    ],
                    events: [
                      { name: 'retry scheduled', timeUnixNano: String(startNs + 2_000_000n) },
                    ],
                    links: [linked],
                  },
                ],
              },
            ],
          },
        ],
      }),
    })
    expect(response.status).toBe(200)

    const spans = await eventually(async () => {
      const found = await jaeger.trace(traceId)
      if (found?.length !== 2) throw new Error(`Jaeger has ${found?.length ?? 0} of 2 spans`)
      return found
    })
    const parent = spans.find((span) => span.spanId === parentSpanId)
    const child = spans.find((span) => span.spanId === childSpanId)
    expect(parent).toMatchObject({
      traceId,
      operationName: 'publish post.created',
      serviceName: 'jaeger-int-spec',
      links: [],
      duration: 3_000,
      startTime: Number(startNs / 1_000n),
    })
    expect(parent?.parentSpanId).toBeUndefined()
    expect(child).toMatchObject({
      traceId,
      operationName: 'handle post.created',
      parentSpanId,
      links: [{ refType: 'FOLLOWS_FROM', ...linked }],
      tags: { 'messaging.system': 'nats', 'messaging.delivery_count': 2, 'span.kind': 'consumer' },
      events: ['retry scheduled'],
      duration: 1_500,
    })
  })

  it('a trace Jaeger has not seen reads as undefined', async () => {
    expect(await jaeger.trace(hex(16))).toBeUndefined()
  })
})
