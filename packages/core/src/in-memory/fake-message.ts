import type { JsMsg } from '@nats-io/jetstream'
import type { MsgHdrs } from '@nats-io/transport-node'

/** How a fake message was settled: what JetStream would have been told. */
export type FakeSettlement =
  { kind: 'ack' } | { kind: 'nak'; delayMs?: number } | { kind: 'term'; reason: string }

/** A JetStream message held in memory: it records how it was settled and kept alive. */
export interface FakeMessage extends JsMsg {
  /** Every ack, nak and term, in order: one, when the delivery settled it once. */
  readonly settlements: FakeSettlement[]
  /** How many times `working()` was called. */
  readonly beats: number
}

export interface FakeMessageOptions {
  subject: string
  data?: Uint8Array | string
  headers?: MsgHdrs
  /** Reading the headers throws this (headers nats.js cannot parse). */
  headersError?: Error
  /** JetStream's delivery count. Default 1. */
  deliveryCount?: number
  /** Default `EVENTS`. */
  stream?: string
  /** The stream position. Default 1. */
  seq?: number
  /** When JetStream stored it. Default now. */
  storedAt?: Date
}

/** A message as a consumer group receives it, without a server. */
export function fakeMessage(options: FakeMessageOptions): FakeMessage {
  const data =
    typeof options.data === 'string'
      ? new TextEncoder().encode(options.data)
      : (options.data ?? new Uint8Array(0))
  const settlements: FakeSettlement[] = []
  let beats = 0
  const storedAt = options.storedAt ?? new Date()
  const message = {
    subject: options.subject,
    data,
    get headers() {
      if (options.headersError) throw options.headersError
      return options.headers
    },
    seq: options.seq ?? 1,
    redelivered: (options.deliveryCount ?? 1) > 1,
    info: {
      stream: options.stream ?? 'EVENTS',
      deliveryCount: options.deliveryCount ?? 1,
      streamSequence: options.seq ?? 1,
      timestampNanos: storedAt.getTime() * 1e6,
      redelivered: (options.deliveryCount ?? 1) > 1,
    },
    ack: () => void settlements.push({ kind: 'ack' }),
    nak: (delayMs?: number) =>
      void settlements.push(delayMs === undefined ? { kind: 'nak' } : { kind: 'nak', delayMs }),
    term: (reason = '') => void settlements.push({ kind: 'term', reason }),
    working: () => void (beats += 1),
    settlements,
    get beats() {
      return beats
    },
  }
  return message as unknown as FakeMessage
}
