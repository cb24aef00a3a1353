import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  formatTraceparent,
  parseTraceparent,
  readTraceContext,
  storedTraceContext,
  tracestateMaxLength,
  validTracestate,
} from './trace-context.ts'

const hex = (length: number) =>
  fc
    .array(fc.constantFrom(...'0123456789abcdef'), { minLength: length, maxLength: length })
    .map((chars) => chars.join(''))
const strict = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/

describe('W3C trace context read from headers', () => {
  it('any string: either nothing, or a version-00 traceparent with non-zero ids', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()), (value) => {
        const context = readTraceContext(value, value)
        if (!context) return
        expect(context.traceparent).toMatch(strict)
        expect(context.traceparent).not.toMatch(/^00-0{32}-|-0{16}-/)
        if (context.tracestate) expect(context.tracestate.length).toBeLessThanOrEqual(512)
      }),
    )
  })

  it('a valid traceparent reads back as written', () => {
    fc.assert(
      fc.property(hex(32), hex(16), fc.integer({ min: 0, max: 255 }), (traceId, spanId, flags) => {
        fc.pre(!/^0+$/.test(traceId) && !/^0+$/.test(spanId))
        const traceparent = formatTraceparent({ traceId, spanId, flags })
        expect(parseTraceparent(traceparent)).toEqual({ traceId, spanId, flags })
        expect(readTraceContext(traceparent)).toEqual({ traceparent })
      }),
    )
  })

  it('refuses all-zero ids, version ff, upper case, and anything around the value', () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736'
    const span = '00f067aa0ba902b7'
    expect(parseTraceparent(`00-${id}-${span}-01`)).toBeDefined()
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${span}-01`)).toBeUndefined()
    expect(parseTraceparent(`00-${id}-${'0'.repeat(16)}-01`)).toBeUndefined()
    expect(parseTraceparent(`ff-${id}-${span}-01`)).toBeUndefined()
    expect(parseTraceparent(`00-${id.toUpperCase()}-${span}-01`)).toBeUndefined()
    expect(parseTraceparent(` 00-${id}-${span}-01`)).toBeUndefined()
    expect(parseTraceparent(`00-${id}-${span}-01-extra`)).toBeUndefined()
  })

  it('reads a later version by its first fields, and passes it on as version 00', () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736'
    const span = '00f067aa0ba902b7'
    expect(readTraceContext(`01-${id}-${span}-01-what-comes-next`)).toEqual({
      traceparent: `00-${id}-${span}-01`,
    })
  })

  it('tracestate: kept when well formed, dropped alone when not', () => {
    const traceparent = `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`
    expect(readTraceContext(traceparent, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7')).toEqual({
      traceparent,
      tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
    })
    expect(validTracestate('tenant@vendor=x')).toBe('tenant@vendor=x')
    expect(validTracestate('Upper=x')).toBeUndefined()
    expect(validTracestate('a=b=c')).toBeUndefined()
    expect(validTracestate(Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','))).toBe(
      undefined,
    )
    expect(validTracestate(`a=${'x'.repeat(tracestateMaxLength)}`)).toBeUndefined()
    expect(readTraceContext(traceparent, 'not a tracestate')).toEqual({ traceparent })
  })

  it('a stored context is kept only in its one shape', () => {
    const traceparent = `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`
    expect(storedTraceContext({ traceparent })).toEqual({ traceparent })
    expect(storedTraceContext({ traceparent: 7 })).toBeUndefined()
    expect(storedTraceContext('00-…')).toBeUndefined()
    expect(storedTraceContext(null)).toBeUndefined()
  })
})
