import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BatchSpanProcessor, ConsoleSpanExporter, TracerProvider } from '@opentelemetry/sdk-trace'
import { createService, openTelemetryTracing } from '@event-driven/core'

// What the blocks in the docs assume: the servers' URLs.
const nats = 'nats://127.0.0.1:4222'
const mongodb = 'mongodb://127.0.0.1:27017'

// #region
// Your SDK, set up once per process before anything connects (the blog's src/tracing.ts exports
// over OTLP instead of to the console).
const provider = new TracerProvider({
  spanProcessors: [new BatchSpanProcessor({ exporter: new ConsoleSpanExporter() })],
})
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
trace.setGlobalTracerProvider(provider)

// One tracer for every service of the process.
const tracing = openTelemetryTracing()
const billing = await createService({ name: 'billing', nats, mongodb, tracing })
// #endregion
await billing.stop()
await provider.shutdown()
