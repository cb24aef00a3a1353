import { noStreamWriter } from '../event-sourcing/streams.ts'
import { randomBytes } from 'node:crypto'
import { headers as natsHeaders } from '@nats-io/transport-node'
import { pino, type Logger } from 'pino'
import type { EventDefinition } from '../event-definition.ts'
import { newId } from '../ids.ts'
import { guardedMetrics, type ServiceMetrics } from '../observe/metrics.ts'
import { handleDelivery, type ConsumerGroup } from '../consume/delivery.ts'
import { consumerGroupName } from '../consume/group-names.ts'
import type { EventHandler } from '../consume/handler.ts'
import type { Settlement } from '../consume/outcome.ts'
import type { RetryPolicy } from '../consume/retry.ts'
import { serviceDefaults } from '../options.ts'
import { messageSigner } from '../publish/signature.ts'
import { eventHeaders, wireSubject, type Redelivery } from '../publish/wire.ts'
import type { EventRecord } from '../store/event-store.ts'
import { fakeMessage, type FakeMessage } from './fake-message.ts'
import {
  inMemoryDeadLetters,
  inMemoryFailureLog,
  inMemoryLedger,
  inMemoryPublisher,
  type InMemoryDeadLetters,
  type InMemoryFailureLog,
  type InMemoryLedger,
} from './adapters.ts'

export interface InMemoryConsumerGroupOptions<Data> {
  definition: EventDefinition<string, Data>
  handler: EventHandler<Data>
  /** @default 'test' */
  service?: string
  /** @default 'handler': the consumer group is `<service>.<handlerName>` */
  handlerName?: string
  /** @default the service default (5 failures, 1 s doubling to 60 s) */
  retry?: Partial<RetryPolicy>
  /** @default the service default ack wait, 30 s */
  timeoutMs?: number
  /** @default silent */
  logger?: Logger
  /** Told of each handler run and settlement, as a service's `metrics` option. @default none */
  metrics?: ServiceMetrics
}

/** An event as its message carries it: ids default to new ones, data to JSON. */
export interface InMemoryEvent {
  /** The body as JSON. Ignored when `body` is given. */
  data?: unknown
  /** The exact body, for input that is not JSON. */
  body?: string | Uint8Array
  eventId?: string
  operationId?: string
  parentId?: string
  /** @default the definition's version */
  version?: number
  /** @default now */
  createdAt?: Date
  redelivery?: Redelivery
  /** The subject it was published on. @default the definition's */
  subject?: string
}

export interface InMemoryDelivery {
  /** How the message was settled: ack, retry (nak with a delay), or given up. */
  settlement: Settlement
  /** Events the handler published during this delivery, as they would be recorded. */
  published: EventRecord[]
  message: FakeMessage
}

export interface InMemoryConsumerGroup {
  readonly consumerGroup: string
  /**
   * One delivery of the event's message, JetStream's delivery count being `attempt` (default 1),
   * through the production delivery steps, with the adapters below in place of MongoDB and NATS.
   * Deliveries of one event id are deliveries of one message (one stream position).
   */
  deliver(event: InMemoryEvent, attempt?: number): Promise<InMemoryDelivery>
  readonly ledger: InMemoryLedger
  readonly failures: InMemoryFailureLog
  readonly deadLetters: InMemoryDeadLetters
  /** Every event the handler published, over all deliveries. */
  readonly published: EventRecord[]
}

/** A consumer group of one handler, run in memory: for tests of handlers without servers. */
export function inMemoryConsumerGroup<Data>(
  options: InMemoryConsumerGroupOptions<Data>,
): InMemoryConsumerGroup {
  const service = options.service ?? 'test'
  const handlerName = options.handlerName ?? 'handler'
  const subjectPrefix = serviceDefaults.stream.subjectPrefix
  // Messages are signed as a service signs them, so the signature step runs as in production.
  const signer = messageSigner(randomBytes(32))
  const publisher = inMemoryPublisher(service)
  const logger = options.logger ?? pino({ level: 'silent' })
  const group: ConsumerGroup = {
    service,
    handlerName,
    consumerGroup: consumerGroupName(service, handlerName),
    definition: options.definition,
    handler: options.handler as EventHandler<unknown>,
    settings: {
      timeoutMs: options.timeoutMs ?? serviceDefaults.ackWaitMs,
      ackWaitMs: serviceDefaults.ackWaitMs,
      retry: { ...serviceDefaults.retry, ...options.retry },
      subjectPrefix,
      duplicateWindowMs: serviceDefaults.stream.duplicateWindowMs,
    },
    signer,
    ledger: inMemoryLedger(),
    streamWriter: noStreamWriter,
    failures: inMemoryFailureLog(),
    deadLetters: inMemoryDeadLetters(),
    publisher,
    logger,
    ...(options.metrics ? { metrics: guardedMetrics(options.metrics, logger) } : {}),
  }
  const positions = new Map<string, number>()

  const messageOf = (event: InMemoryEvent, attempt: number): FakeMessage => {
    const eventId = event.eventId ?? newId()
    const seq = positions.get(eventId) ?? positions.size + 1
    positions.set(eventId, seq)
    const subject = wireSubject(subjectPrefix, event.subject ?? options.definition.subject)
    const body = event.body ?? JSON.stringify(event.data ?? null)
    // An operation of its own by default: its first event, as `startOperation` publishes it.
    const operationId = event.operationId ?? newId()
    const h = natsHeaders()
    h.set('Nats-Msg-Id', eventId)
    h.set(eventHeaders.eventId, eventId)
    h.set(eventHeaders.version, String(event.version ?? options.definition.version))
    h.set(eventHeaders.operationId, operationId)
    h.set(eventHeaders.parentId, event.parentId ?? operationId)
    h.set(eventHeaders.createdAt, (event.createdAt ?? new Date()).toISOString())
    if (event.redelivery) h.set(eventHeaders.redelivery, event.redelivery)
    signer.sign(subject, eventId, h, body)
    return fakeMessage({ subject, data: body, headers: h, deliveryCount: attempt, seq })
  }

  return {
    consumerGroup: group.consumerGroup,
    async deliver(event, attempt = 1) {
      const message = messageOf(event, attempt)
      const before = publisher.published.length
      const settlement = await handleDelivery(message, group)
      return { settlement, published: publisher.published.slice(before), message }
    },
    ledger: group.ledger as InMemoryLedger,
    failures: group.failures as InMemoryFailureLog,
    deadLetters: group.deadLetters as InMemoryDeadLetters,
    published: publisher.published,
  }
}
