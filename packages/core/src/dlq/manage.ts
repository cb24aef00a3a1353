import type { JetStreamClient } from '@nats-io/jetstream'
import { headers as natsHeaders } from '@nats-io/transport-node'
import type { Filter } from 'mongodb'
import { durableName } from '../consume/group-names.ts'
import { ErrorCodes, EventDrivenError } from '../errors.ts'
import { resendSpan } from '../observe/spans.ts'
import { readTraceContext, traceHeaders } from '../observe/trace-context.ts'
import type { ServiceTracing } from '../observe/tracing.ts'
import { headerPairs, eventHeaders, redriveSubject, setTraceHeaders } from '../publish/wire.ts'
import { publishSigned, signatureHeader, type MessageSigner } from '../publish/signature.ts'
import type { DlqAction, DlqRecord, DlqStatus, EventStore } from '../store/event-store.ts'
import type { IndexDeclaration } from '../store/indexes.ts'
import { isDuplicateKey } from '../store/insert-new.ts'
import { keysetPage, olderThan } from '../store/keyset.ts'
import { currentFormat, formatOf, unreadableFormat } from '../version/formats.ts'

/** Which DLQ entries: every field optional; `from`/`to` bound `createdAt`. */
export interface DlqFilter {
  service?: string
  consumerGroup?: string
  subject?: string
  status?: DlqStatus
  /** The event's id as stored (ids longer than 200 characters are stored cut, with `…`). */
  eventId?: string
  from?: Date
  to?: Date
}

/** The names of `DlqFilter`'s fields: anything else in a request is refused, never ignored. */
export const dlqFilterFields = [
  'service',
  'consumerGroup',
  'subject',
  'status',
  'eventId',
  'from',
  'to',
] as const satisfies readonly (keyof DlqFilter)[]

/**
 * A DLQ entry as the API, the CLI and the dashboard show it: the stored record with the message
 * decoded for reading. `payloadBase64` is the body byte for byte; `payload` its UTF-8 text
 * (null when the body is not UTF-8); `headers` the header lines as name/value pairs.
 */
export type DlqEntry = Omit<DlqRecord, 'payload' | 'headers'> & {
  payload: string | null
  payloadBase64: string
  headers: { name: string; value: string }[]
}

/** One failure cycle of the same event and consumer group, oldest first (see `DlqEntryDetail`). */
export interface DlqCycle {
  id: string
  status: DlqStatus
  createdAt: Date
  action?: DlqAction
}

/** An entry with every failure cycle of its event in its consumer group: the whole history. */
export type DlqEntryDetail = DlqEntry & { cycles: DlqCycle[] }

/**
 * Why an action was refused, for a caller to branch on (the reason says it to a person):
 * - `not-found`: no entry has that id.
 * - `not-open`: the entry was closed already by an earlier action; the reason names it and who.
 * - `lost-race`: another action claimed the entry first, while this one was on its way; the
 *   reason names the winner, which this call finished if its caller had not.
 * - `untrusted`: a redrive of a message the framework did not sign, which is never delivered to
 *   a handler (discard or resolve it instead).
 * - `format-unsupported`: the entry was written by a newer version of event-driven (a deploy
 *   rolled back); an upgraded instance can act on it.
 */
export type DlqRefusalCode =
  'not-found' | 'not-open' | 'lost-race' | 'untrusted' | 'format-unsupported'

/** An action's outcome: done (with the entry as it is now), or refused with a code and a reason. */
export type DlqActionResult =
  { ok: true; entry: DlqEntry } | { ok: false; code: DlqRefusalCode; reason: string }

export interface DlqManager {
  /**
   * Newest first, a page at a time (`limit` from 1 to 500): pass the answer's `next` as `before`
   * for the next, older page; `next` is null on the last. No count and no skip: both read every
   * entry the filter selects.
   */
  list(
    filter?: DlqFilter,
    page?: { limit?: number; before?: string },
  ): Promise<{ entries: DlqEntry[]; next: string | null }>
  get(id: string): Promise<DlqEntryDetail | null>
  /**
   * Delivers the entry's message again to its consumer group only, with the same eventId,
   * operationId and parentId. Refused unless the entry is open and the framework signed it.
   */
  redrive(id: string, by: string): Promise<DlqActionResult>
  /** Marks it discarded, with the reason, kept for audit. Refused unless open. */
  discard(id: string, by: string, reason: string): Promise<DlqActionResult>
  /** Marks it fixed by hand. Refused unless open. */
  resolve(id: string, by: string, note?: string): Promise<DlqActionResult>
  /**
   * Redrives every open entry the filter selects (`'all'`: every open entry; an empty filter is
   * refused, so nothing is redriven by accident); reports each step and what it did.
   */
  redriveWhere(
    filter: DlqFilter | 'all',
    by: string,
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ total: number; redriven: string[]; refused: { id: string; reason: string }[] }>
}

/** A filter that selects every entry, where only `'all'` may. */
export class DlqFilterError extends EventDrivenError {
  override name = 'DlqFilterError'
  readonly code = ErrorCodes.DlqFilterSelectsAll
}

/**
 * The DLQ's reads on MongoDB: lists by status (newest first) and consumer group, an event's
 * cycles. The DLQ holds failures only, so it stays small next to the event store.
 */
export const dlqIndexes: readonly IndexDeclaration[] = [
  {
    collection: 'dlq',
    keys: { status: 1, createdAt: -1, _id: -1 },
    serves: 'DLQ entries of one status, newest first',
    onFerretDb: 'scan',
  },
  {
    collection: 'dlq',
    keys: { status: 1, consumerGroup: 1 },
    serves: 'open DLQ entries of a consumer group',
  },
  { collection: 'dlq', keys: { eventId: 1 }, serves: 'an event’s DLQ cycles' },
]

function query(filter: DlqFilter): Filter<DlqRecord> {
  const q: Filter<DlqRecord> = {}
  if (filter.service) q.service = filter.service
  if (filter.consumerGroup) q.consumerGroup = filter.consumerGroup
  if (filter.subject) q.subject = filter.subject
  if (filter.status) q.status = filter.status
  if (filter.eventId) q.eventId = filter.eventId
  if (filter.from || filter.to) {
    q.createdAt = {
      ...(filter.from ? { $gte: filter.from } : {}),
      ...(filter.to ? { $lt: filter.to } : {}),
    }
  }
  return q
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The stored record decoded for reading. Records of the first format (text payload, headers as keys) read too. */
export function dlqEntryView(record: DlqRecord): DlqEntry {
  const stored = record as Omit<DlqRecord, 'payload' | 'headers'> & {
    payload: DlqRecord['payload'] | string
    headers: DlqRecord['headers'] | Record<string, string[]>
  }
  const body =
    typeof stored.payload === 'string'
      ? Buffer.from(stored.payload, 'utf8')
      : Buffer.from(stored.payload.buffer)
  let text: string | null
  try {
    text = utf8.decode(body)
  } catch {
    text = null
  }
  const headers =
    'buffer' in stored.headers && stored.headers.buffer instanceof Uint8Array
      ? headerPairs(stored.headers.buffer)
      : Object.entries(stored.headers as Record<string, string[]>).flatMap(([name, values]) =>
          values.map((value) => ({ name, value })),
        )
  return {
    ...stored,
    trusted: stored.trusted ?? true,
    payload: text,
    payloadBase64: body.toString('base64'),
    headers,
  }
}

const closedStatus: Record<DlqAction['action'], DlqStatus> = {
  redrive: 'redriven',
  discard: 'discarded',
  resolve: 'resolved',
}

/** Headers a redrive never copies: JetStream's own (`Nats-Msg-Id`, `Nats-Expected-*`) and the ones it sets anew. */
function copiedHeader(name: string): boolean {
  const lower = name.toLowerCase()
  return !lower.startsWith('nats-') && !renewed.has(lower)
}

const renewed = new Set(
  [
    signatureHeader,
    eventHeaders.redelivery,
    eventHeaders.redriveOf,
    traceHeaders.traceparent,
    traceHeaders.tracestate,
    traceHeaders.link,
  ].map((name) => name.toLowerCase()),
)

export function dlqManager(
  store: EventStore,
  js: JetStreamClient,
  subjectPrefix: string,
  signer: MessageSigner,
  tracing?: ServiceTracing,
): DlqManager {
  /** One claim per entry: an insert on a unique `_id` is atomic on every server, so one action wins. */
  const claims = store.dlqActions

  const redeliver = async (entry: DlqRecord) => {
    const h = natsHeaders()
    const stored = headerPairs(entry.headers.buffer)
    for (const { name, value } of stored) {
      if (copiedHeader(name)) h.append(name, value)
    }
    if (!h.has(eventHeaders.eventId)) h.set(eventHeaders.eventId, entry.eventId)
    if (!h.has(eventHeaders.subject)) h.set(eventHeaders.subject, entry.subject)
    h.set(eventHeaders.redelivery, 'redrive')
    h.set(eventHeaders.redriveOf, entry._id)
    // A new trace, linked to the one the failed message belonged to (its deliveries link to it
    // even when this process does not trace).
    const original = readTraceContext(
      stored.find((pair) => pair.name === traceHeaders.traceparent)?.value,
      stored.find((pair) => pair.name === traceHeaders.tracestate)?.value,
    )
    if (original) h.set(traceHeaders.link, original.traceparent)
    const span = tracing?.start(
      resendSpan(
        'redrive',
        entry.consumerGroup,
        { 'event_driven.dlq.entry_id': entry._id, 'messaging.message.id': entry.eventId },
        original,
      ),
    )
    if (span?.context) setTraceHeaders(h, span.context)
    const subject = redriveSubject(subjectPrefix, durableName(entry.service, entry.handler))
    // Its own id: the event's would be dropped as a duplicate of the original; the same id for
    // a repeated completion of one redrive.
    try {
      await publishSigned(js, signer, subject, Buffer.from(entry.payload.buffer), {
        msgID: `redrive:${entry._id}`,
        headers: h,
      })
    } catch (error) {
      span?.end(error)
      throw error
    }
    span?.end()
  }

  /**
   * Carries out a claimed action: for a redrive, publishes the message (an idempotent publish),
   * then records the entry's status and history. Whoever finds a claim whose action was not
   * carried out (its caller died half-way) finishes it the same way.
   */
  const complete = async (entry: DlqRecord, action: DlqAction) => {
    if (action.action === 'redrive') await redeliver(entry)
    const status = closedStatus[action.action]
    if (entry.status === status) return entry
    await store.dlq.updateOne({ _id: entry._id }, { $set: { status, history: [action] } })
    return { ...entry, status, history: [action] }
  }

  const refusal = (entry: DlqRecord, action: DlqAction | undefined) =>
    `the entry is ${action ? closedStatus[action.action] : entry.status}${action ? ` (${action.action} by ${action.by} at ${action.at.toISOString()})` : ''}: only open entries can be redriven, discarded or resolved`

  const act = async (id: string, action: DlqAction): Promise<DlqActionResult> => {
    const entry = await store.dlq.findOne({ _id: id })
    if (!entry) return { ok: false, code: 'not-found', reason: `no DLQ entry ${id}` }
    const unreadable = unreadableFormat(formatOf(entry.format), `DLQ entry ${id}`)
    if (unreadable) return { ok: false, code: 'format-unsupported', reason: unreadable }
    if (entry.status !== 'open')
      return { ok: false, code: 'not-open', reason: refusal(entry, entry.history?.[0]) }
    if (action.action === 'redrive' && entry.trusted === false)
      return {
        ok: false,
        code: 'untrusted',
        reason:
          'the message was not signed by the framework, so it is never delivered to a handler: discard it, or publish the event through a service',
      }
    try {
      await claims.insertOne({ _id: id, format: currentFormat, ...action })
    } catch (error) {
      if (!isDuplicateKey(error)) throw error
      const claim = await claims.findOne({ _id: id }, { projection: { _id: 0, format: 0 } })
      const winner = claim ? (claim as DlqAction) : undefined
      if (winner) await complete(entry, winner)
      return { ok: false, code: 'lost-race', reason: refusal(entry, winner) }
    }
    return { ok: true, entry: dlqEntryView(await complete(entry, action)) }
  }

  const manager: DlqManager = {
    async list(filter = {}, { limit = 50, before } = {}) {
      const q = query(filter)
      if (before !== undefined) {
        const last = await store.dlq.findOne({ _id: before }, { projection: { createdAt: 1 } })
        if (!last) return { entries: [], next: null }
        Object.assign(q, olderThan('createdAt', last))
      }
      const size = Math.min(Math.max(limit, 1), 500)
      const found = await store.dlq
        .find(q)
        .sort({ createdAt: -1, _id: -1 })
        .limit(size + 1)
        .toArray()
      const { page, next } = keysetPage(found, size)
      return { entries: page.map(dlqEntryView), next }
    },
    async get(id) {
      const entry = await store.dlq.findOne({ _id: id })
      if (!entry) return null
      const cycles = await store.dlq
        .find(
          { eventId: entry.eventId, consumerGroup: entry.consumerGroup },
          { projection: { status: 1, createdAt: 1, history: 1 } },
        )
        .sort({ createdAt: 1 })
        .toArray()
      return {
        ...dlqEntryView(entry),
        cycles: cycles.map((c) => ({
          id: c._id,
          status: c.status,
          createdAt: c.createdAt,
          ...(c.history?.[0] ? { action: c.history[0] } : {}),
        })),
      }
    },
    redrive: (id, by) => act(id, { action: 'redrive', by, at: new Date() }),
    discard: (id, by, reason) => act(id, { action: 'discard', by, at: new Date(), reason }),
    resolve: (id, by, note) =>
      act(id, { action: 'resolve', by, at: new Date(), ...(note ? { reason: note } : {}) }),
    async redriveWhere(filter, by, onProgress) {
      // Only open entries are redriven, so a status narrows nothing.
      if (filter !== 'all' && Object.values(query({ ...filter, status: undefined })).length === 0)
        throw new DlqFilterError(
          'the filter selects every entry: name a service, consumer group, subject, event or time range, or ask for all',
        )
      const selection = filter === 'all' ? {} : filter
      const ids = (
        await store.dlq
          .find(query({ ...selection, status: 'open' }), { projection: { _id: 1 } })
          .toArray()
      ).map((e) => e._id)
      const redriven: string[] = []
      const refused: { id: string; reason: string }[] = []
      for (const [done, id] of ids.entries()) {
        const result = await manager.redrive(id, by)
        if (result.ok) redriven.push(id)
        else refused.push({ id, reason: result.reason })
        onProgress?.(done + 1, ids.length)
      }
      return { total: ids.length, redriven, refused }
    },
  }
  return manager
}
