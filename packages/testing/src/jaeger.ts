import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually } from './eventually.ts'
import { startProcess } from './node-process.ts'
import { freePort } from './ports.ts'

/**
 * The Jaeger binary (v2): from `JAEGER_BIN` (`infra/local/jaeger.sh` builds it and sets it), else
 * an error that says how to get it.
 */
export function jaegerBinary(): string {
  const bin = process.env.JAEGER_BIN
  if (!bin)
    throw new Error(
      'JAEGER_BIN is not set: source infra/local/jaeger.sh (it builds Jaeger once and caches it), or set JAEGER_BIN to a Jaeger v2 binary',
    )
  return bin
}

/** A span as Jaeger stored it, read back through its query API (`/api/traces/{id}`). */
export interface JaegerSpan {
  /** 32 hex digits. */
  traceId: string
  /** 16 hex digits. */
  spanId: string
  operationName: string
  /** The span's parent (its CHILD_OF reference), if it has one. */
  parentSpanId?: string
  /** Its other references: OTLP links arrive as FOLLOWS_FROM (their attributes are not kept). */
  links: { traceId: string; spanId: string; refType: 'CHILD_OF' | 'FOLLOWS_FROM' }[]
  /** Span attributes, plus what Jaeger adds (`span.kind`, `otel.status_code`, `error`, …). */
  tags: Record<string, string | number | boolean>
  /** The resource's `service.name`. */
  serviceName: string
  /** Microseconds since the epoch. */
  startTime: number
  /** Microseconds. */
  duration: number
  /** The names of the span's events (Jaeger's logs), in order. */
  events: string[]
}

/** A Jaeger of a test's own: OTLP in, its query API out, spans kept in memory. */
export interface Jaeger {
  /** OTLP over HTTP: `POST {otlpHttpUrl}/v1/traces` (protobuf or JSON). */
  otlpHttpUrl: string
  /** OTLP over gRPC, as the gRPC exporters take it (`http://127.0.0.1:PORT`). */
  otlpGrpcUrl: string
  /** Jaeger's query API (`/api/traces/{id}`, `/api/services`). */
  queryUrl: string
  /** The trace's spans, or undefined while Jaeger has none of it (it answers 404). */
  trace(traceId: string): Promise<JaegerSpan[] | undefined>
  /** Stops it (SIGTERM), waits until it exited, and removes its config. */
  stop(): Promise<void>
}

interface ApiKeyValue {
  key: string
  value: string | number | boolean
}
interface ApiTrace {
  spans: {
    traceID: string
    spanID: string
    operationName: string
    references: { refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }[] | null
    startTime: number
    duration: number
    tags: ApiKeyValue[] | null
    logs: { fields: ApiKeyValue[] }[] | null
    processID: string
  }[]
  processes: Record<string, { serviceName: string }>
}

// Jaeger prints a trace ID whose high 64 bits are zero with 16 digits.
const traceIdHex = (id: string) => id.padStart(32, '0')

/** Distinct free loopback ports: each call of freePort() alone may give the same one again. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) ports.add(await freePort())
  return [...ports]
}

/**
 * Starts Jaeger v2 on free loopback ports (OTLP gRPC and HTTP, the query API's HTTP and gRPC)
 * with memory storage and nothing else that listens (no health check, no metrics of its own);
 * resolves once the query API answers and the OTLP HTTP receiver takes an empty export.
 */
export async function startJaeger(): Promise<Jaeger> {
  const command = jaegerBinary()
  const [otlpGrpc, otlpHttp, queryHttp, queryGrpc] = await freePorts(4)
  const at = (port: number | undefined) => `127.0.0.1:${port}`
  // JSON is YAML. The shape is that of Jaeger's cmd/jaeger/internal/all-in-one.yaml (v1.76.0),
  // cut down to what the tests use.
  const config = {
    service: {
      extensions: ['jaeger_storage', 'jaeger_query'],
      // No batch processor: spans are stored as they arrive, so a test waits less.
      pipelines: { traces: { receivers: ['otlp'], exporters: ['jaeger_storage_exporter'] } },
      // level none: no Prometheus endpoint of the collector's own (it would bind :8888).
      telemetry: { metrics: { level: 'none' }, logs: { level: 'warn' } },
    },
    extensions: {
      jaeger_storage: { backends: { memstore: { memory: { max_traces: 100_000 } } } },
      jaeger_query: {
        storage: { traces: 'memstore' },
        // On, the query service exports its own spans over OTLP to localhost:4317.
        enable_tracing: false,
        http: { endpoint: at(queryHttp) },
        grpc: { endpoint: at(queryGrpc) },
      },
    },
    receivers: {
      otlp: { protocols: { grpc: { endpoint: at(otlpGrpc) }, http: { endpoint: at(otlpHttp) } } },
    },
    exporters: { jaeger_storage_exporter: { trace_storage: 'memstore' } },
  }
  const dir = await mkdtemp(join(tmpdir(), 'ed-jaeger-'))
  const configFile = join(dir, 'jaeger.yaml')
  await writeFile(configFile, JSON.stringify(config, null, 2))
  const jaeger = startProcess(command, ['--config', configFile])
  const otlpHttpUrl = `http://${at(otlpHttp)}`
  const queryUrl = `http://${at(queryHttp)}`
  const stop = async () => {
    await jaeger.stop()
    await rm(dir, { recursive: true, force: true })
  }

  try {
    await eventually(
      async () => {
        if (jaeger.child.exitCode !== null || jaeger.child.signalCode !== null)
          throw new Error(`Jaeger exited (${await jaeger.exited}):\n${jaeger.output()}`)
        const services = await fetch(`${queryUrl}/api/services`)
        if (!services.ok) throw new Error(`Jaeger's query API answered ${services.status}`)
        // Extensions start before the receivers: the query API may answer first.
        const empty = await fetch(`${otlpHttpUrl}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"resourceSpans":[]}',
        })
        if (!empty.ok) throw new Error(`Jaeger's OTLP HTTP receiver answered ${empty.status}`)
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    )
  } catch (error) {
    await stop()
    throw error
  }

  return {
    otlpHttpUrl,
    otlpGrpcUrl: `http://${at(otlpGrpc)}`,
    queryUrl,
    async trace(traceId) {
      const response = await fetch(`${queryUrl}/api/traces/${traceId}`)
      if (response.status === 404) return undefined
      if (!response.ok)
        throw new Error(
          `Jaeger /api/traces/${traceId}: ${response.status} ${await response.text()}`,
        )
      const { data } = (await response.json()) as { data: ApiTrace[] }
      return data.flatMap(({ spans, processes }) =>
        spans.map((span): JaegerSpan => {
          const references = (span.references ?? []).map((ref) => ({
            refType: ref.refType,
            traceId: traceIdHex(ref.traceID),
            spanId: ref.spanID,
          }))
          const parent = references.find((ref) => ref.refType === 'CHILD_OF')
          return {
            traceId: traceIdHex(span.traceID),
            spanId: span.spanID,
            operationName: span.operationName,
            ...(parent ? { parentSpanId: parent.spanId } : {}),
            links: references.filter((ref) => ref !== parent),
            tags: Object.fromEntries((span.tags ?? []).map((tag) => [tag.key, tag.value])),
            serviceName: processes[span.processID]?.serviceName ?? '',
            startTime: span.startTime,
            duration: span.duration,
            // OTLP events become logs whose `event` field is the event's name.
            events: (span.logs ?? []).map((log) =>
              String(log.fields.find((field) => field.key === 'event')?.value ?? ''),
            ),
          }
        }),
      )
    },
    stop,
  }
}
