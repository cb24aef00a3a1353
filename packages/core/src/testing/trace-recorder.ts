import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace'
import { openTelemetryTracing } from '../observe/tracing.ts'
import type { ServiceTracing } from '../observe/tracing.ts'

/** A span as tests read it: names, ids and relations, nothing of the SDK's shapes. */
export interface RecordedSpan {
  name: string
  kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer'
  traceId: string
  spanId: string
  parentSpanId?: string
  /** `traceId-spanId` of each link. */
  links: string[]
  attributes: Record<string, unknown>
  events: string[]
  failed: boolean
  statusMessage?: string
}

const kindNames: Record<SpanKind, RecordedSpan['kind']> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
}

/**
 * An OpenTelemetry SDK that keeps every ended span in memory, with the async context manager a
 * real setup registers (so `within` and `active` parents work as in production).
 */
export interface TraceRecorder {
  tracing: ServiceTracing
  spans(): RecordedSpan[]
  clear(): void
  /** Unregisters the context manager. */
  close(): Promise<void>
}

export function traceRecorder(): TraceRecorder {
  const contextManager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(contextManager)
  const exporter = new InMemorySpanExporter()
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] })
  return {
    tracing: openTelemetryTracing({ tracerProvider: provider }),
    spans: () => exporter.getFinishedSpans().map(recorded),
    clear: () => exporter.reset(),
    async close() {
      await provider.shutdown()
      context.disable()
    },
  }
}

function recorded(span: ReadableSpan): RecordedSpan {
  const { traceId, spanId } = span.spanContext()
  return {
    name: span.name,
    kind: kindNames[span.kind],
    traceId,
    spanId,
    ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    links: span.links.map((link) => `${link.context.traceId}-${link.context.spanId}`),
    attributes: { ...span.attributes },
    events: span.events.map((event) => event.name),
    failed: span.status.code === SpanStatusCode.ERROR,
    ...(span.status.message ? { statusMessage: span.status.message } : {}),
  }
}
