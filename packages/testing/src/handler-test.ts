import { randomUUID } from 'node:crypto'
import type { EventDefinition, EventHandler, RetryPolicy, ServiceOptions } from '@event-driven/core'
import { inMemoryConsumerGroup, type Settlement } from '@event-driven/core/testing'

/**
 * A handler run without servers, through the framework's own delivery steps (signature, decode,
 * ledger, lost attempts, handler with its timeout, failure record, retry or DLQ) with in-memory
 * stand-ins for MongoDB and NATS: what it returns is what the consumer group would do.
 */

export interface TestHandlerOptions {
  /** @default 'test' */
  service?: string
  /** The handler's name: the consumer group is `<service>.<handler>`. @default 'handler' */
  handler?: string
  /** @default the service default: 5 failures, 1 s doubling up to 60 s */
  retry?: Partial<RetryPolicy>
  /** @default the service default ack wait, 30 s */
  timeoutMs?: number
  /** Where the handler's `ctx.logger` writes. @default silent */
  logger?: ServiceOptions['logger']
}

/** The event delivered: its data, and what its message carries. */
export interface TestEvent<Data> {
  /** Sent as JSON, as published. To test bad input, pass data the schema refuses (`as never`). */
  data: Data
  /** @default a new id; give one to deliver the same event again */
  id?: string
  /** @default a new id: the event is an operation's first */
  operationId?: string
  /** @default the operation id */
  parentId?: string
  /** The version it was published as (older ones are upcast). @default the definition's */
  version?: number
  /** @default now */
  createdAt?: Date
  /** Marks a delivery that may repeat an earlier one: `relay`, `retry`, `redrive`, `replay`. */
  redelivery?: 'relay' | 'retry' | 'redrive' | 'replay'
  /** JetStream's delivery count (`ctx.attempt`). @default 1 */
  attempt?: number
}

/** How the consumer group settles the delivery. */
export type HandlerOutcome =
  | { kind: 'ack' }
  | { kind: 'retry'; delayMs: number }
  | {
      kind: 'deadLetter'
      reason: string
      /** Each failed attempt's number and error message. */
      attempts: { attempt: number; message: string }[]
      trusted: boolean
    }

/** An event the handler published with `ctx.publish`, as it would be recorded. */
export interface PublishedEvent {
  id: string
  subject: string
  version: number
  data: unknown
  operationId: string
  parentId: string
}

export interface HandlerRun {
  attempt: number
  outcome: HandlerOutcome
  published: PublishedEvent[]
}

export interface HandlerTest<Data> {
  /** The consumer group, `<service>.<handler>`. */
  readonly consumerGroup: string
  /** One delivery of the event. Failures, the ledger and DLQ entries are kept between calls. */
  deliver(event: TestEvent<Data>): Promise<HandlerRun>
  /**
   * Delivers the event, then again after each retry (without waiting the delay), as JetStream
   * would, until it is acknowledged or given up: one run per delivery.
   */
  deliverUntilSettled(event: Omit<TestEvent<Data>, 'attempt'>): Promise<HandlerRun[]>
}

export function testHandler<Data>(
  definition: EventDefinition<string, Data>,
  handler: EventHandler<Data>,
  options: TestHandlerOptions = {},
): HandlerTest<Data> {
  const group = inMemoryConsumerGroup({
    definition,
    handler,
    service: options.service,
    handlerName: options.handler,
    retry: options.retry,
    timeoutMs: options.timeoutMs,
    logger: options.logger,
  })
  const deliver = async (event: TestEvent<Data>): Promise<HandlerRun> => {
    const attempt = event.attempt ?? 1
    const { settlement, published } = await group.deliver(
      {
        data: event.data,
        eventId: event.id,
        operationId: event.operationId,
        parentId: event.parentId,
        version: event.version,
        createdAt: event.createdAt,
        redelivery: event.redelivery,
      },
      attempt,
    )
    return {
      attempt,
      outcome: outcomeOf(settlement),
      published: published.map((e) => ({
        id: e._id,
        subject: e.subject,
        version: e.version,
        data: e.data,
        operationId: e.operationId,
        parentId: e.parentId,
      })),
    }
  }
  return {
    consumerGroup: group.consumerGroup,
    deliver,
    async deliverUntilSettled(event) {
      const same = {
        ...event,
        id: event.id ?? randomUUID(),
        operationId: event.operationId ?? randomUUID(),
      }
      const runs: HandlerRun[] = []
      // Past the last allowed failure the framework gives a message up: the loop always ends.
      for (let attempt = 1; ; attempt += 1) {
        const run = await deliver({ ...same, attempt })
        runs.push(run)
        if (run.outcome.kind !== 'retry') return runs
      }
    },
  }
}

function outcomeOf(settlement: Settlement): HandlerOutcome {
  switch (settlement.kind) {
    case 'ack':
      return { kind: 'ack' }
    case 'retry':
    case 'unrecorded':
      return { kind: 'retry', delayMs: settlement.delayMs }
    case 'deadLettered':
    case 'parked':
      return {
        kind: 'deadLetter',
        reason: settlement.letter.reason,
        attempts: settlement.letter.attempts.map((a) => ({
          attempt: a.attempt,
          message: a.message,
        })),
        trusted: settlement.letter.trusted,
      }
  }
}
