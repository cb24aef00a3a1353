import { expect } from 'vitest'

// What the block in the docs assumes: the trace ID the code under test exported spans under.
declare const traceId: string

// #region
import { eventually, startJaeger } from '@event-driven/testing'

const jaeger = await startJaeger() // needs JAEGER_BIN: ./dev.sh test sets it
// Point the code's OTLP exporter at jaeger.otlpHttpUrl (POST /v1/traces) or jaeger.otlpGrpcUrl.
const spans = await eventually(async () => {
  const found = await jaeger.trace(traceId) // undefined until Jaeger has the trace
  expect(found).toHaveLength(2)
  return found!
})
// Each span: traceId, spanId, operationName, parentSpanId, links, tags, serviceName, events.
expect(spans.find((span) => span.operationName === 'handle post.created')?.parentSpanId).toBe(
  spans.find((span) => span.operationName === 'publish post.created')?.spanId,
)
await jaeger.stop()
// #endregion
