import { noStreamWriter } from '../event-sourcing/streams.ts'
import { headers as natsHeaders } from '@nats-io/transport-node'
import { pino, type Logger } from 'pino'
import { z } from 'zod'
import { openDelivery, type ConsumerGroup, type Delivery } from '../consume/delivery.ts'
import { defineEvent } from '../event-definition.ts'
import { fakeMessage, type FakeMessage } from '../in-memory/fake-message.ts'
import {
  inMemoryDeadLetters,
  inMemoryFailureLog,
  inMemoryLedger,
  inMemoryPublisher,
} from '../in-memory/adapters.ts'

/**
 * Fixtures for unit tests of the delivery steps: a consumer group of plain objects and in-memory
 * adapters, and messages of its subject with the framework's headers.
 */

/** Version 2; version 1 had `body` where 2 has `text`. */
export const NoteAdded = defineEvent({
  subject: 'Note.added',
  version: 2,
  schema: z.object({ text: z.string().min(1) }),
  upcasters: { 1: (v1: { body: string }) => ({ text: v1.body }) },
})

export const NoteIndexed = defineEvent({
  subject: 'Note.indexed',
  version: 1,
  schema: z.object({ text: z.string() }),
})

export interface CapturedLines {
  logger: Logger
  lines: Record<string, unknown>[]
  messages(): string[]
}

export function captureLines(): CapturedLines {
  const lines: Record<string, unknown>[] = []
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  )
  return { logger, lines, messages: () => lines.map((l) => String(l.msg)) }
}

/** `notes.index`, handling NoteAdded, with the service defaults and in-memory everything. */
export function fakeGroup(overrides: Partial<ConsumerGroup> = {}): ConsumerGroup {
  return {
    service: 'notes',
    handlerName: 'index',
    consumerGroup: 'notes.index',
    definition: NoteAdded,
    handler: async () => undefined,
    settings: {
      timeoutMs: 1_000,
      ackWaitMs: 30_000,
      retry: { maxFailures: 5, baseDelayMs: 1_000, maxDelayMs: 60_000 },
      subjectPrefix: 'events',
      duplicateWindowMs: 120_000,
    },
    signer: { verify: () => 'valid' },
    ledger: inMemoryLedger(),
    failures: inMemoryFailureLog(),
    deadLetters: inMemoryDeadLetters(),
    publisher: inMemoryPublisher('notes'),
    streamWriter: noStreamWriter,
    logger: pino({ level: 'silent' }),
    ...overrides,
  }
}

export interface NoteMessageOptions {
  /** The body. Default `{"text":"hello"}`. */
  data?: string | Uint8Array
  /** Headers set over the framework's (Event-Id e1, version 2, Operation-Id op1, …); undefined removes one. */
  headers?: Record<string, string | undefined>
  subject?: string
  deliveryCount?: number
  seq?: number
  storedAt?: Date
  headersError?: Error
}

/** A message of `events.Note.added` as the framework publishes it. */
export function noteMessage(options: NoteMessageOptions = {}): FakeMessage {
  const values: Record<string, string | undefined> = {
    'Nats-Msg-Id': 'e1',
    'Event-Id': 'e1',
    'Event-Version': '2',
    'Operation-Id': 'op1',
    'Parent-Id': 'op1',
    'Event-Created-At': new Date().toISOString(),
    ...options.headers,
  }
  const h = natsHeaders()
  for (const [name, value] of Object.entries(values)) if (value !== undefined) h.set(name, value)
  return fakeMessage({
    subject: options.subject ?? 'events.Note.added',
    data: options.data ?? JSON.stringify({ text: 'hello' }),
    headers: h,
    deliveryCount: options.deliveryCount,
    seq: options.seq ?? 7,
    storedAt: options.storedAt,
    headersError: options.headersError,
  })
}

/** A delivery of a note message, before its first step. */
export function noteDelivery(
  options: NoteMessageOptions = {},
  group: ConsumerGroup = fakeGroup(),
): Delivery {
  return openDelivery(noteMessage(options), group)
}
