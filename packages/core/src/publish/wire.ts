import type { JsMsg } from '@nats-io/jetstream'
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node'
import { readTraceContext, traceHeaders, type TraceContext } from '../observe/trace-context.ts'
import { keyedWireSubject, readKeyedSubject } from '../ordering/keyed-subjects.ts'
import type { EventRecord } from '../store/event-store.ts'
import {
  assertReadable,
  currentFormat,
  unreadableFormat,
  type WritableFormat,
} from '../version/formats.ts'

/** Headers that carry an event's ids on the wire; the body is the event's data as JSON. */
export const eventHeaders = {
  eventId: 'Event-Id',
  /** The event's subject, on messages sent on another subject (a redrive). */
  subject: 'Event-Subject',
  version: 'Event-Version',
  /**
   * The message's format (`version/formats.ts`); absent on format 1 (messages from before
   * formats). A format this instance does not read sends the message to the DLQ with the reason.
   */
  format: 'Event-Format',
  operationId: 'Operation-Id',
  parentId: 'Parent-Id',
  createdAt: 'Event-Created-At',
  /**
   * Set when this message may repeat one the consumer groups already got: a relay republish, a
   * child re-emitted by a retried handler, a redrive, a replay. Such a first delivery
   * is checked against the processed ledger like a redelivery.
   */
  redelivery: 'Event-Redelivery',
  /** A replay's id: its deliveries are checked against (and written to) their own ledger entries. */
  replayId: 'Replay-Id',
  /** On a redrive: the DLQ entry it redelivers, so the next entry (if it fails again) links back. */
  redriveOf: 'Dlq-Redrive-Of',
} as const

/**
 * The subject an event is published on: `<prefix>.<Entity>.<verb>`, or with its partition key
 * (a keyed event, see `ordering/keyed-subjects.ts`) `<prefix>._k.<partitionKey>.<Entity>.<verb>`.
 */
export function wireSubject(subjectPrefix: string, subject: string, partitionKey?: string): string {
  return partitionKey === undefined
    ? `${subjectPrefix}.${subject}`
    : keyedWireSubject(subjectPrefix, subject, partitionKey)
}

/** Where a redrive for one consumer group goes: only that group's durable listens on it. */
export function redriveSubject(subjectPrefix: string, durable: string): string {
  return `${subjectPrefix}._redrive.${durable}`
}

/** Why a message may repeat an earlier one (see `eventHeaders.redelivery`). */
export type Redelivery = 'relay' | 'retry' | 'redrive' | 'replay'

const redeliveries: readonly string[] = [
  'relay',
  'retry',
  'redrive',
  'replay',
] satisfies Redelivery[]

function isRedelivery(value: string): value is Redelivery {
  return redeliveries.includes(value)
}

/**
 * The message of a stored event, in `format` (the current one unless an instance writes the
 * previous one during a rolling deploy). A record in a format this version does not read is
 * refused (`FormatError`): it is never sent half-understood.
 */
export function encodeEvent(
  record: EventRecord,
  redelivery: Redelivery | undefined = record.redelivery,
  format: WritableFormat = currentFormat,
): { payload: string; headers: MsgHdrs } {
  assertReadable(record, `event ${record._id}`)
  const headers = natsHeaders()
  // Format 1 had no header: a reader of it sees exactly what it always saw.
  if (format > 1) headers.set(eventHeaders.format, String(format))
  headers.set(eventHeaders.eventId, record._id)
  headers.set(eventHeaders.version, String(record.version))
  headers.set(eventHeaders.operationId, record.operationId)
  headers.set(eventHeaders.parentId, record.parentId)
  headers.set(eventHeaders.createdAt, record.createdAt.toISOString())
  if (redelivery) headers.set(eventHeaders.redelivery, redelivery)
  if (record.trace) setTraceHeaders(headers, record.trace)
  return { payload: JSON.stringify(record.data), headers }
}

/** Sets (or replaces) the trace context a message carries. */
export function setTraceHeaders(headers: MsgHdrs, trace: TraceContext): void {
  headers.set(traceHeaders.traceparent, trace.traceparent)
  if (trace.tracestate) headers.set(traceHeaders.tracestate, trace.tracestate)
  else headers.delete(traceHeaders.tracestate)
}

/** What arrived, before any check: ids from headers (when present) and the exact bytes. */
export interface RawDelivery {
  eventId: string
  subject: string
  /** The subject it was published and signed on (a keyed event's, before JetStream's transform). */
  publishedSubject: string
  /** A keyed event's partition and key token, read from the stored subject. */
  partition?: { number: number; key: string }
  version?: number
  operationId?: string
  parentId?: string
  createdAt?: Date
  redelivery?: Redelivery
  replayId?: string
  /** The DLQ entry a redrive message redelivers. */
  redriveOf?: string
  /** The trace the message belongs to (`traceparent`); absent when it carries none that is valid. */
  trace?: TraceContext
  /** On a redrive or a replay: the trace it first belonged to (`Event-Trace-Link`). */
  traceLink?: TraceContext
  /** The body, byte for byte. */
  body: Uint8Array
  /** The header block as it arrived (`NATS/1.0` and its lines), byte for byte; empty without headers. */
  headerBlock: Uint8Array
  /** The parsed headers; undefined without headers, or when they could not be parsed. */
  headers?: MsgHdrs
  /** What makes this message unusable before any handler sees it (unreadable headers, a bad version). */
  problem?: string
}

const versionText = /^[1-9][0-9]{0,8}$/

/** Reads what a delivery carries. Never throws: whatever the message holds, it can be recorded. */
export function readDelivery(msg: JsMsg, subjectPrefix: string): RawDelivery {
  const headerBlock = rawHeaderBlock(msg)
  let headers: MsgHdrs | undefined
  let problem: string | undefined
  try {
    headers = msg.headers
  } catch (error) {
    problem = `the message's headers cannot be read (${(error as Error).message})`
  }
  // Headers nats.js cannot parse are still read leniently, for ids and labels.
  const lenient = headers || !problem ? undefined : headerPairs(headerBlock)
  const header = (name: string) =>
    (lenient ? lenient.find((h) => h.name === name)?.value : headers?.get(name)) || undefined
  const version = header(eventHeaders.version)
  if (version !== undefined && !versionText.test(version))
    problem ??= `${eventHeaders.version} ${JSON.stringify(version.slice(0, 50))} is not a version (a whole number from 1)`
  // Absent on format 1; a format this version does not read is a problem on every delivery.
  const format = header(eventHeaders.format)
  if (format !== undefined && !versionText.test(format))
    problem ??= `${eventHeaders.format} ${JSON.stringify(format.slice(0, 50))} is not a format (a whole number from 1)`
  else if (format !== undefined) problem ??= unreadableFormat(Number(format), 'the message')
  const createdAt = header(eventHeaders.createdAt)
  const createdAtDate = createdAt === undefined ? undefined : new Date(createdAt)
  if (createdAtDate && Number.isNaN(createdAtDate.getTime()))
    problem ??= `${eventHeaders.createdAt} ${JSON.stringify(createdAt!.slice(0, 50))} is not a date`
  const redelivery = header(eventHeaders.redelivery)
  if (redelivery !== undefined && !isRedelivery(redelivery))
    problem ??= `${eventHeaders.redelivery} ${JSON.stringify(redelivery.slice(0, 50))} is not one of ${redeliveries.join(', ')}`
  const keyed = readKeyedSubject(subjectPrefix, msg.subject)
  return {
    // A message published without our headers still needs a stable key: its stream position.
    eventId:
      header(eventHeaders.eventId) ?? header('Nats-Msg-Id') ?? `${msg.info.stream}:${msg.seq}`,
    subject:
      header(eventHeaders.subject) ??
      keyed?.subject ??
      (msg.subject.startsWith(`${subjectPrefix}.`)
        ? msg.subject.slice(subjectPrefix.length + 1)
        : msg.subject),
    publishedSubject: keyed?.publishedSubject ?? msg.subject,
    ...(keyed ? { partition: { number: keyed.partition, key: keyed.partitionKey } } : {}),
    version: version !== undefined && versionText.test(version) ? Number(version) : undefined,
    operationId: header(eventHeaders.operationId),
    parentId: header(eventHeaders.parentId),
    createdAt: createdAtDate && !Number.isNaN(createdAtDate.getTime()) ? createdAtDate : undefined,
    redelivery: redelivery !== undefined && isRedelivery(redelivery) ? redelivery : undefined,
    replayId: header(eventHeaders.replayId),
    redriveOf: header(eventHeaders.redriveOf),
    // Anything else than a valid trace context is dropped: the delivery starts a trace of its own.
    trace: readTraceContext(header(traceHeaders.traceparent), header(traceHeaders.tracestate)),
    traceLink: readTraceContext(header(traceHeaders.link)),
    body: msg.data,
    headerBlock,
    headers,
    problem,
  }
}

/**
 * The header block exactly as received. nats.js keeps the raw bytes of a message (headers, then
 * body) on its inner message; where that shape is not there, the parsed headers are encoded again.
 */
function rawHeaderBlock(msg: JsMsg): Uint8Array {
  const inner = (msg as unknown as { msg?: { _rdata?: Uint8Array; _msg?: { hdr?: number } } }).msg
  const length = inner?._msg?.hdr
  if (inner?._rdata instanceof Uint8Array && typeof length === 'number')
    return length > 0 ? inner._rdata.subarray(0, length) : new Uint8Array(0)
  try {
    if (!msg.headers) return new Uint8Array(0)
    let block = 'NATS/1.0\r\n'
    for (const [name, values] of msg.headers) for (const v of values) block += `${name}: ${v}\r\n`
    return Buffer.from(`${block}\r\n`, 'utf8')
  } catch {
    return new Uint8Array(0)
  }
}

/**
 * The name/value pairs of a header block, read leniently (for display and redrive): lines after
 * the `NATS/1.0` status line, split at the first colon, values decoded as UTF-8.
 */
export function headerPairs(block: Uint8Array): { name: string; value: string }[] {
  if (block.length === 0) return []
  const lines = Buffer.from(block).toString('utf8').split('\r\n').slice(1)
  return lines.flatMap((line) => {
    const colon = line.indexOf(':')
    if (colon <= 0) return []
    return [{ name: line.slice(0, colon), value: line.slice(colon + 1).trim() }]
  })
}
