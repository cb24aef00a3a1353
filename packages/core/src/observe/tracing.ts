import type * as Otel from '@opentelemetry/api'
import type { Logger } from 'pino'
import { openTelemetryApi } from '../optional-peers.ts'
import {
  formatTraceparent,
  parseTraceparent,
  traceIdOf,
  type TraceContext,
} from './trace-context.ts'

/**
 * Tracing as the framework uses it: it starts spans at the points it knows (an operation, each
 * publish, each delivery and its handler, a redrive, a replay; the service kit adds requests) and
 * stores each span's context with the record it belongs to, so a chain that continues later (the
 * relay, another process) continues the same trace. `openTelemetryTracing()` is the one shipped;
 * without one (the default) none of this runs: every call site checks for it first.
 */
export interface ServiceTracing {
  start(span: SpanStart): TraceSpan
}

export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer'

export type SpanAttributes = Record<string, string | number | boolean>

export interface SpanStart {
  name: string
  kind: SpanKind
  /**
   * What the span belongs to: a stored or received context, a span of this process, or `active`
   * (the one current where it starts: a request the caller's instrumentation traced). Absent, or
   * a context that is not valid: the span starts a trace of its own.
   */
  parent?: TraceContext | TraceSpan | 'active'
  /**
   * With `parent: 'active'`: the context a request carried (its `traceparent`), the parent when
   * no span is current (no instrumentation of the caller's traced the request itself).
   */
  incoming?: TraceContext
  /** Traces it follows from without belonging to them: the original of a redrive or a replay. */
  links?: TraceContext[]
  attributes?: SpanAttributes
}

/** A started span: what the framework needs of it. */
export interface TraceSpan {
  /**
   * Its context, stored with the record it started for and sent on messages; undefined when the
   * tracer made no valid context (no SDK registered, and no parent to continue).
   */
  readonly context: TraceContext | undefined
  /** Its trace id, for log lines; undefined as `context` is. */
  readonly traceId: string | undefined
  /** Runs `fn` with this span current, so the spans of what it calls are its children. */
  within<T>(fn: () => T): T
  /** Something that happened during it: a retry, a dead letter. */
  event(name: string, attributes?: SpanAttributes): void
  setAttributes(attributes: SpanAttributes): void
  /** Ends it; with an error, as failed (the error's message, never its data). */
  end(error?: unknown): void
}

export interface OpenTelemetryTracingOptions {
  /** Where spans go. Default: the global one (`trace.setGlobalTracerProvider`, or an SDK's `register()`). */
  tracerProvider?: Otel.TracerProvider
}

/** The context a parent gives its children: its own, or a span's (undefined when it has none). */
export function contextOf(parent: TraceContext | TraceSpan | undefined): TraceContext | undefined {
  return parent && ('traceparent' in parent ? parent : parent.context)
}

/** The tracer's name in every span: the instrumentation scope. */
export const instrumentationScope = '@event-driven/core'

/**
 * Tracing through OpenTelemetry (`@opentelemetry/api`, an optional peer: a `ConfigurationError`
 * says to install it when it is missing). Spans go to the tracer provider registered by the
 * application's SDK. Until one is registered, no span is made at all: contexts received are passed
 * on unchanged, as without tracing (so an API without an SDK costs next to nothing). Sampling is
 * the SDK's (parent-based by default in OpenTelemetry's SDKs).
 */
export function openTelemetryTracing(options: OpenTelemetryTracingOptions = {}): ServiceTracing {
  const api = openTelemetryApi()
  const provider = options.tracerProvider ?? api.trace.getTracerProvider()
  const tracer = provider.getTracer(instrumentationScope)
  // The global provider is a proxy until an SDK registers; once one has, it stays.
  let registered = !(provider instanceof api.ProxyTracerProvider)
  const sdkRegistered = () =>
    (registered ||=
      (provider as Otel.ProxyTracerProvider).getDelegateTracer(instrumentationScope) !== undefined)
  const kinds: Record<SpanKind, Otel.SpanKind> = {
    internal: api.SpanKind.INTERNAL,
    server: api.SpanKind.SERVER,
    client: api.SpanKind.CLIENT,
    producer: api.SpanKind.PRODUCER,
    consumer: api.SpanKind.CONSUMER,
  }
  const spanContextOf = (stored: TraceContext): Otel.SpanContext | undefined => {
    const parsed = parseTraceparent(stored.traceparent)
    if (!parsed) return undefined
    return {
      traceId: parsed.traceId,
      spanId: parsed.spanId,
      traceFlags: parsed.flags & 1,
      isRemote: true,
      ...(stored.tracestate ? { traceState: api.createTraceState(stored.tracestate) } : {}),
    }
  }
  const parentOf = (parent: SpanStart['parent'], incoming?: TraceContext): Otel.Context => {
    if (parent === undefined) return api.ROOT_CONTEXT
    if (parent === 'active') {
      const active = api.context.active()
      return incoming && !api.trace.getSpan(active) ? parentOf(incoming) : active
    }
    const own = parent instanceof GuardedSpan ? parent.inner : parent
    if (own instanceof OpenTelemetrySpan) return own.otelContext
    const stored = contextOf(own)
    const spanContext = stored && spanContextOf(stored)
    return spanContext ? api.trace.setSpanContext(api.ROOT_CONTEXT, spanContext) : api.ROOT_CONTEXT
  }
  return {
    start({ name, kind, parent, incoming, links, attributes }) {
      if (!sdkRegistered()) return passedOn(parent === 'active' ? incoming : parent)
      const parentContext = parentOf(parent, incoming)
      const span = tracer.startSpan(
        name,
        {
          kind: kinds[kind],
          ...(attributes ? { attributes } : {}),
          ...(links?.length
            ? {
                links: links.flatMap((link) => {
                  const context = spanContextOf(link)
                  return context ? [{ context }] : []
                }),
              }
            : {}),
        },
        parentContext,
      )
      return new OpenTelemetrySpan(api, span, api.trace.setSpan(parentContext, span))
    },
  }
}

/**
 * A tracer whose failures are logged once and otherwise ignored: a span that cannot be started
 * or ended never changes what a delivery or a publish does (it would turn handled events into
 * retries). What it runs `within` a span is the caller's, and its errors stay the caller's.
 */
export function guardedTracing(tracing: ServiceTracing, logger: Logger): ServiceTracing {
  let logged = false
  const failed = (error: unknown) => {
    if (logged) return
    logged = true
    logger.error({ err: error }, 'the tracer threw: traces are incomplete')
  }
  return {
    start(start) {
      try {
        return new GuardedSpan(tracing.start(start), failed)
      } catch (error) {
        failed(error)
        return untracedSpan
      }
    },
  }
}

class GuardedSpan implements TraceSpan {
  /** The span it guards: a tracer given this one as a parent takes that. */
  readonly inner: TraceSpan
  private readonly failed: (error: unknown) => void
  constructor(inner: TraceSpan, failed: (error: unknown) => void) {
    this.inner = inner
    this.failed = failed
  }
  get context() {
    return this.inner.context
  }
  get traceId() {
    return this.inner.traceId
  }
  within<T>(fn: () => T): T {
    return this.inner.within(fn)
  }
  event(name: string, attributes?: SpanAttributes): void {
    this.guard(() => this.inner.event(name, attributes))
  }
  setAttributes(attributes: SpanAttributes): void {
    this.guard(() => this.inner.setAttributes(attributes))
  }
  end(error?: unknown): void {
    this.guard(() => this.inner.end(error))
  }
  private guard(call: () => void) {
    try {
      call()
    } catch (error) {
      this.failed(error)
    }
  }
}

/** What a span that could not be started is: nothing to store, nothing to record. */
const untracedSpan: TraceSpan = {
  context: undefined,
  traceId: undefined,
  within: (fn) => fn(),
  event: () => undefined,
  setAttributes: () => undefined,
  end: () => undefined,
}

/** A span not recorded: it passes on the context its parent has, as a process without tracing does. */
function passedOn(parent: TraceContext | TraceSpan | undefined): TraceSpan {
  const context = contextOf(parent)
  if (!context) return untracedSpan
  return { ...untracedSpan, context, traceId: traceIdOf(context) }
}

class OpenTelemetrySpan implements TraceSpan {
  readonly context: TraceContext | undefined
  readonly traceId: string | undefined
  /** The context with this span current: the parent of spans started within it. */
  readonly otelContext: Otel.Context
  private readonly api: typeof Otel
  private readonly span: Otel.Span
  constructor(api: typeof Otel, span: Otel.Span, otelContext: Otel.Context) {
    this.api = api
    this.span = span
    this.otelContext = otelContext
    const spanContext = span.spanContext()
    if (api.trace.isSpanContextValid(spanContext)) {
      const tracestate = spanContext.traceState?.serialize()
      this.context = {
        traceparent: formatTraceparent({
          traceId: spanContext.traceId,
          spanId: spanContext.spanId,
          flags: spanContext.traceFlags,
        }),
        ...(tracestate ? { tracestate } : {}),
      }
      this.traceId = spanContext.traceId
    }
  }
  within<T>(fn: () => T): T {
    return this.api.context.with(this.otelContext, fn)
  }
  event(name: string, attributes?: SpanAttributes): void {
    this.span.addEvent(name, attributes)
  }
  setAttributes(attributes: SpanAttributes): void {
    this.span.setAttributes(attributes)
  }
  end(error?: unknown): void {
    if (error !== undefined) {
      const message = error instanceof Error ? error.message : describe(error)
      this.span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: message.slice(0, 500) })
      if (error instanceof Error)
        this.span.addEvent('exception', {
          'exception.type': error.name,
          'exception.message': message.slice(0, 500),
        })
    }
    this.span.end()
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? typeof value)
}
