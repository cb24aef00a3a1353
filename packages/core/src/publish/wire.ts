import type { JsMsg } from '@nats-io/jetstream'
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node'
import type { EventRecord } from '../store/event-store.ts'

/** Headers that carry an event's ids on the wire; the body is the event's data as JSON. */
export const eventHeaders = {
  eventId: 'Event-Id',
  /** The event's subject, on messages sent on another subject (a redrive). */
  subject: 'Event-Subject',
  version: 'Event-Version',
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
} as const

export function wireSubject(subjectPrefix: string, subject: string): string {
  return `${subjectPrefix}.${subject}`
}

/** Where a redrive for one consumer group goes: only that group's durable listens on it. */
export function redriveSubject(subjectPrefix: string, durable: string): string {
  return `${subjectPrefix}._redrive.${durable}`
}

/** Why a message may repeat an earlier one (see `eventHeaders.redelivery`). */
export type Redelivery = 'relay' | 'retry' | 'redrive' | 'replay'

export function encodeEvent(
  record: EventRecord,
  redelivery: Redelivery | undefined = record.redelivery,
): { payload: string; headers: MsgHdrs } {
  const headers = natsHeaders()
  headers.set(eventHeaders.eventId, record._id)
  headers.set(eventHeaders.version, String(record.version))
  headers.set(eventHeaders.operationId, record.operationId)
  headers.set(eventHeaders.parentId, record.parentId)
  headers.set(eventHeaders.createdAt, record.createdAt.toISOString())
  if (redelivery) headers.set(eventHeaders.redelivery, redelivery)
  return { payload: JSON.stringify(record.data), headers }
}

/** What arrived, before any check: ids from headers (when present) and the raw body. */
export interface RawDelivery {
  eventId: string
  subject: string
  version?: number
  operationId?: string
  parentId?: string
  createdAt?: Date
  redelivery?: string
  replayId?: string
  body: string
  headers: Record<string, string[]>
}

export function readDelivery(msg: JsMsg, subjectPrefix: string): RawDelivery {
  const header = (name: string) => msg.headers?.get(name) || undefined
  const version = header(eventHeaders.version)
  const createdAt = header(eventHeaders.createdAt)
  const headers: Record<string, string[]> = {}
  if (msg.headers) for (const [key, values] of msg.headers) headers[key] = values
  return {
    // A message published without our headers still needs a stable key: its stream position.
    eventId:
      header(eventHeaders.eventId) ?? header('Nats-Msg-Id') ?? `${msg.info.stream}:${msg.seq}`,
    subject:
      header(eventHeaders.subject) ??
      (msg.subject.startsWith(`${subjectPrefix}.`)
        ? msg.subject.slice(subjectPrefix.length + 1)
        : msg.subject),
    version: version === undefined ? undefined : Number(version),
    operationId: header(eventHeaders.operationId),
    parentId: header(eventHeaders.parentId),
    createdAt: createdAt ? new Date(createdAt) : undefined,
    redelivery: header(eventHeaders.redelivery),
    replayId: header(eventHeaders.replayId),
    body: msg.string(),
    headers,
  }
}
