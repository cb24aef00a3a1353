// OpenTelemetry for this process, on when OTEL_EXPORTER_OTLP_ENDPOINT is set (an OTLP/HTTP
// receiver: Jaeger, Tempo, an OpenTelemetry Collector): spans of every operation, publish,
// delivery, handler, GraphQL request and request-reply call, batched and sent there.
//   OTEL_EXPORTER_OTLP_ENDPOINT  e.g. http://127.0.0.1:4318 (spans go to <it>/v1/traces)
//   OTEL_SERVICE_NAME            the name traces show for this process (default: blog-<part>)
//   OTEL_TRACES_SAMPLER_ARG      share of new traces kept, 0 to 1 (default 1); a trace that
//                                arrives with a request or a message keeps its own decision
//   OTEL_BSP_SCHEDULE_DELAY      ms between exports (default 5000)
// Replace the exporter or the sampler here as you need: the framework only asks for the API.
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import { openTelemetryTracing, type ServiceTracing } from '@event-driven/core'

export interface ProcessTracing {
  /** What services, the gateway and request-reply calls start spans with; undefined when off. */
  tracing?: ServiceTracing
  /** Sends the spans still buffered, then stops exporting. */
  shutdown(): Promise<void>
}

export function startTracing(
  defaultServiceName: string,
  env: NodeJS.ProcessEnv = process.env,
): ProcessTracing {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT
  if (!endpoint) return { shutdown: async () => {} }
  const ratio = numberOf(env.OTEL_TRACES_SAMPLER_ARG, 1, 'OTEL_TRACES_SAMPLER_ARG')
  if (ratio < 0 || ratio > 1) throw new Error('OTEL_TRACES_SAMPLER_ARG must be between 0 and 1')
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME || defaultServiceName,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }),
        scheduledDelayMillis: numberOf(
          env.OTEL_BSP_SCHEDULE_DELAY,
          5_000,
          'OTEL_BSP_SCHEDULE_DELAY',
        ),
      }),
    ],
  })
  // Async context, so spans started while a request or a handler runs are its children.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  trace.setGlobalTracerProvider(provider)
  return {
    tracing: openTelemetryTracing({ tracerProvider: provider }),
    shutdown: () => provider.shutdown(),
  }
}

function numberOf(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got ${text}`)
  return value
}
