import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { guardedTracing, openTelemetryTracing } from './tracing.ts'

const parent = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }

describe('openTelemetryTracing', () => {
  it('with no SDK registered: makes no span, and passes on the context it was given', () => {
    const tracing = openTelemetryTracing()
    const child = tracing.start({ name: 'process X', kind: 'consumer', parent })
    expect(child.context).toEqual(parent)
    expect(child.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(tracing.start({ name: 'operation x', kind: 'internal' }).context).toBeUndefined()
    expect(child.within(() => 7)).toBe(7)
  })

  it('with a provider: records spans, children under their parent, links kept', () => {
    const exporter = new InMemorySpanExporter()
    const tracerProvider = new TracerProvider({
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    })
    const tracing = openTelemetryTracing({ tracerProvider })
    const root = tracing.start({ name: 'publish X', kind: 'producer', links: [parent] })
    const child = tracing.start({ name: 'process X', kind: 'consumer', parent: root.context })
    child.end(new Error('boom'))
    root.end()
    const [ended, started] = exporter.getFinishedSpans()
    expect(ended!.parentSpanContext?.spanId).toBe(started!.spanContext().spanId)
    expect(started!.links.map((l) => l.context.spanId)).toEqual(['00f067aa0ba902b7'])
    expect(ended!.status).toMatchObject({ code: 2, message: 'boom' })
    expect(child.context!.traceparent).toBe(
      `00-${started!.spanContext().traceId}-${ended!.spanContext().spanId}-01`,
    )
  })

  it('guarded: a throwing tracer gives a span that does nothing; a span that throws is ignored', () => {
    const broken = guardedTracing(
      {
        start: () => {
          throw new Error('no')
        },
      },
      pino({ level: 'silent' }),
    )
    const span = broken.start({ name: 'x', kind: 'internal', parent })
    expect(span.context).toBeUndefined()
    expect(span.within(() => 'ran')).toBe('ran')
    const throwsOnEnd = guardedTracing(
      {
        start: () => ({
          context: parent,
          traceId: 'x',
          within: (fn) => fn(),
          event: () => undefined,
          setAttributes: () => undefined,
          end: () => {
            throw new Error('no')
          },
        }),
      },
      pino({ level: 'silent' }),
    )
    expect(() => throwsOnEnd.start({ name: 'x', kind: 'internal' }).end()).not.toThrow()
  })
})
