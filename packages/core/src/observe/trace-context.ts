/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as the framework stores it with
 * operations and events and sends it on messages. Parsed here, strictly, with no OpenTelemetry
 * package: the headers come from whoever can publish, so a value that is not exactly a trace
 * context is dropped (the span starts a trace of its own), never passed on.
 */

/** The trace an operation or event belongs to, as stored with its record and sent as headers. */
export interface TraceContext {
  traceparent: string
  /** Vendors' entries, passed on as received (at most `tracestateMaxLength` characters). */
  tracestate?: string
}

/** The parts of a valid `traceparent`. */
export interface ParsedTraceparent {
  traceId: string
  spanId: string
  /** Bit 0: sampled. */
  flags: number
}

/** Message headers that carry trace context. */
export const traceHeaders = {
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /**
   * On a redrive or a replay: the trace the message first belonged to. Its new deliveries start
   * a trace of their own and link to that one.
   */
  link: 'Event-Trace-Link',
} as const

/** Longer `tracestate` values are dropped: the spec asks for at least 512 to be passed on. */
export const tracestateMaxLength = 512

const version00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/
// A later version keeps these first fields; it may add fields after a dash (spec, 4.3).
const laterVersion =
  /^([0-9a-e][0-9a-f]|f[0-9a-e])-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
const allZeros = /^0+$/
const tracestateMember =
  /^\s*(?:[a-z0-9][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]\s*$/

/** The parts of `value`, or undefined when it is not a valid `traceparent`. */
export function parseTraceparent(value: unknown): ParsedTraceparent | undefined {
  if (typeof value !== 'string' || value.length > 512) return undefined
  const parts = version00.exec(value) ?? laterVersionParts(value)
  if (!parts) return undefined
  const [, traceId, spanId, flags] = parts as [string, string, string, string]
  if (allZeros.test(traceId) || allZeros.test(spanId)) return undefined
  return { traceId, spanId, flags: Number.parseInt(flags, 16) }
}

function laterVersionParts(value: string): string[] | undefined {
  const match = laterVersion.exec(value)
  // Version 00 has exactly its four fields: anything after them makes it invalid.
  return match && match[1] !== '00' ? [match[0], match[2]!, match[3]!, match[4]!] : undefined
}

/** `tracestate` if it is valid (at most 32 well-formed entries), else undefined. */
export function validTracestate(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > tracestateMaxLength)
    return undefined
  const members = value.split(',').filter((member) => member.trim() !== '')
  if (members.length === 0 || members.length > 32) return undefined
  return members.every((member) => tracestateMember.test(member)) ? value : undefined
}

/**
 * The trace context in `traceparent` and `tracestate` values (as read from headers), normalized
 * to version 00; undefined when `traceparent` is not valid. An invalid `tracestate` alone is
 * dropped, as the spec asks.
 */
export function readTraceContext(
  traceparent: unknown,
  tracestate?: unknown,
): TraceContext | undefined {
  const parsed = parseTraceparent(traceparent)
  if (!parsed) return undefined
  const state = validTracestate(tracestate)
  return { traceparent: formatTraceparent(parsed), ...(state ? { tracestate: state } : {}) }
}

/** The trace id of a valid context (its `traceparent`'s second field): for log lines. */
export function traceIdOf(context: TraceContext): string {
  return context.traceparent.slice(3, 35)
}

export function formatTraceparent({ traceId, spanId, flags }: ParsedTraceparent): string {
  return `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, '0')}`
}

/** A stored record's trace, kept only in its one valid shape (records are read from MongoDB). */
export function storedTraceContext(value: unknown): TraceContext | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { traceparent, tracestate } = value as Record<string, unknown>
  return readTraceContext(traceparent, tracestate)
}
