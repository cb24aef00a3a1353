import type { JsMsg } from '@nats-io/jetstream'
import type { Logger } from 'pino'
import type { EventDefinition } from '../event-definition.ts'
import { otherSubject, type DeliveryOutcome, type ServiceMetrics } from '../observe/metrics.ts'
import { deliverySpan } from '../observe/spans.ts'
import { traceIdOf } from '../observe/trace-context.ts'
import type { ServiceTracing, TraceSpan } from '../observe/tracing.ts'
import type { AppendLineage } from '../event-sourcing/append.ts'
import type { StreamWriter } from '../event-sourcing/streams.ts'
import type { Publisher } from '../publish/publisher.ts'
import type { MessageSigner } from '../publish/signature.ts'
import { readDelivery, type RawDelivery } from '../publish/wire.ts'
import type { EventStore } from '../store/event-store.ts'
import { deliveryKey } from '../store/keys.ts'
import { letterOf, writeDeadLetter, type DeadLetterQueue } from './dead-letter.ts'
import type { DeliveriesInFlight } from './deliveries-in-flight.ts'
import type { FailureLog } from './failures.ts'
import type { EventHandler, ReceivedEvent } from './handler.ts'
import { keepAlive } from './keep-alive.ts'
import type { Ledger } from './ledger.ts'
import { handledNote, retry, type Outcome, type Settlement, type StepResult } from './outcome.ts'
import { retryDelayMs, type RetryPolicy } from './retry.ts'
import { settle } from './settle.ts'
import { checkHeaders } from './steps/check-headers.ts'
import { checkSubject } from './steps/check-subject.ts'
import { decode } from './steps/decode.ts'
import { dedupe } from './steps/dedupe.ts'
import { lostAttempts } from './steps/lost-attempts.ts'
import { recordFailure } from './steps/record-failure.ts'
import { runHandler } from './steps/run-handler.ts'
import { verifySignature } from './steps/verify-signature.ts'

/** How a consumer group's deliveries run. */
export interface DeliverySettings {
  /** A handler run longer than this counts as a failure (`HandlerTimeoutError`). */
  timeoutMs: number
  /** JetStream's ack wait: the message is kept alive three times within it. */
  ackWaitMs: number
  retry: RetryPolicy
  subjectPrefix: string
  /** JetStream drops a repeated message id within this window; past it, the ledger must. */
  duplicateWindowMs: number
}

/**
 * A consumer group as its deliveries see it: what it is, how its deliveries run, and what they
 * use outside this process (MongoDB and NATS in a service, in memory in tests).
 */
export interface ConsumerGroup {
  service: string
  handlerName: string
  /** `<service>.<handler>` (see `group-names.ts`). */
  consumerGroup: string
  definition: EventDefinition<string, unknown>
  handler: EventHandler<unknown>
  /** Its keyed event's partitions are handled one event at a time (`group-durables.ts`). */
  ordered?: boolean
  settings: DeliverySettings
  signer: Pick<MessageSigner, 'verify'>
  ledger: Pick<Ledger, 'isProcessed' | 'markProcessed'>
  failures: FailureLog
  deadLetters: DeadLetterQueue
  /** Where the handler's child events go (ids derived from this delivery). */
  publisher: Publisher
  /** Appends to event-sourced streams for a handler's run (`event-sourcing/streams.ts`). */
  streamWriter: (lineage: AppendLineage) => StreamWriter
  logger: Logger
  /** Told of each handler run and each settlement; absent when metrics are off. */
  metrics?: ServiceMetrics
  /** Starts a span per delivery and per handler run; absent when tracing is off. */
  tracing?: ServiceTracing
}

/**
 * What a service gives each consumer group: the event store holds its failure records and DLQ
 * entries (with a pending Slack alert each when `alertsOn`), and `park` is the last resort.
 */
export type ConsumerGroupContext = Omit<ConsumerGroup, 'failures' | 'deadLetters'> & {
  store: EventStore
  alertsOn: boolean
  park: DeadLetterQueue['park']
}

/** One delivery as it goes through the steps: each may add what it learned. */
export interface Delivery {
  msg: JsMsg
  /** What arrived, read once: ids from the headers, the exact bytes (`readDelivery`). */
  raw: RawDelivery
  /** Key of the ledger entry and the failure record; a replay's deliveries have keys of their own. */
  key: string
  /** JetStream's delivery count: 1 on the first delivery; a crashed process counts too. */
  attempt: number
  /** Another delivery of this event was in flight here first: the ledger must be read. */
  followsEarlier?: boolean
  /** Its lines carry eventId, operationId, consumerGroup, attempt and (when traced) traceId. */
  logger: Logger
  /** The delivery's span, from arrival to settlement; absent when tracing is off. */
  span?: TraceSpan
  /** The event as the handler sees it: set by `decode`. */
  event?: ReceivedEvent
  /** Why the handler did not finish, and when its run started: set by `runHandler`. */
  failure?: { error: unknown; startedAt: Date }
}

/** A step returns an outcome, or `next` to hand the delivery to the step after it. */
export type DeliveryStep = (
  delivery: Delivery,
  group: ConsumerGroup,
) => StepResult | Promise<StepResult>

/**
 * The order of every delivery, fixed by the framework here and nowhere else. Input that no retry
 * can fix is refused before the ledger is read; the ledger is read before the handler runs; the
 * attempts a crash left are counted before the handler runs again.
 */
export const deliverySteps: readonly DeliveryStep[] = [
  verifySignature, // not signed by the framework → DLQ, untrusted
  checkHeaders, // a header the framework cannot use → DLQ
  checkSubject, // another group's subject → DLQ
  decode, // not UTF-8, not JSON, unknown version, fails the schema → DLQ
  dedupe, // processed before → ack; ledger unreadable → retry
  lostAttempts, // past the last allowed failure → DLQ; attempts a crash left → recorded
  runHandler, // finished → ledger, ack
  recordFailure, // failed → recorded; retry with backoff, or DLQ after the last
]

/**
 * Takes one message through the steps, writes its dead letter when it is given up, and settles
 * it: the message is kept alive meanwhile. Resolves with how it was settled. With `inFlight`,
 * a delivery of an event this instance is still delivering waits for it (see
 * `deliveries-in-flight.ts`).
 */
export async function handleDelivery(
  msg: JsMsg,
  group: ConsumerGroup,
  inFlight?: DeliveriesInFlight,
): Promise<Settlement> {
  const stopKeepAlive = keepAlive(msg, group.settings.ackWaitMs)
  try {
    const delivery = openDelivery(msg, group)
    if (!inFlight) return await deliver(delivery, group)
    return await inFlight.one(delivery.key, (waited) =>
      deliver(waited ? { ...delivery, followsEarlier: true } : delivery, group),
    )
  } finally {
    stopKeepAlive()
  }
}

async function deliver(delivery: Delivery, group: ConsumerGroup): Promise<Settlement> {
  let settlement: Settlement
  try {
    const outcome = await decide(delivery, group)
    settlement =
      outcome.kind === 'deadLetter'
        ? await writeDeadLetter(
            group.deadLetters,
            letterOf(delivery, group, outcome),
            retryDelayMs(delivery.attempt, group.settings.retry),
          )
        : outcome
  } catch (error) {
    delivery.logger.error(
      { err: error, consumerGroup: group.consumerGroup },
      'delivery failed unexpectedly; it will be redelivered',
    )
    settlement = retry(1_000)
  }
  settle(delivery.msg, settlement, delivery.logger)
  if (group.metrics) observeSettlement(group.metrics, group, delivery, settlement)
  if (delivery.span) endDeliverySpan(delivery.span, settlement)
  return settlement
}

/** A delivery before its first step: what arrived, its key, its attempt, its logger. */
export function openDelivery(msg: JsMsg, group: ConsumerGroup): Delivery {
  const raw = readDelivery(msg, group.settings.subjectPrefix)
  const attempt = msg.info.deliveryCount
  const span = group.tracing?.start(
    deliverySpan({
      subject: labelSubject(raw, group),
      consumerGroup: group.consumerGroup,
      wireSubject: msg.subject,
      eventId: raw.eventId,
      operationId: raw.operationId,
      attempt,
      streamSequence: msg.seq,
      redelivery: raw.redelivery,
      parent: raw.trace,
      link: raw.traceLink,
    }),
  )
  // Without tracing here, lines still carry the trace the message came with.
  const traceId = span ? span.traceId : raw.trace && traceIdOf(raw.trace)
  return {
    msg,
    raw,
    key: deliveryKey(raw.eventId, group.consumerGroup, raw.replayId),
    attempt,
    logger: group.logger.child({
      eventId: raw.eventId.slice(0, 200),
      operationId: raw.operationId?.slice(0, 200),
      consumerGroup: group.consumerGroup,
      attempt,
      ...(traceId ? { traceId } : {}),
    }),
    ...(span ? { span } : {}),
  }
}

/** The subject metrics and spans name a delivery by: from code, never from the message. */
function labelSubject(raw: RawDelivery, group: ConsumerGroup): string {
  return raw.subject === group.definition.subject ? group.definition.subject : otherSubject
}

/** What became of the delivery, on its span: a retry and a dead letter are failures of it. */
function endDeliverySpan(span: TraceSpan, settlement: Settlement) {
  switch (settlement.kind) {
    case 'ack':
      if (settlement.note !== handledNote) span.event('duplicate', { reason: settlement.note })
      span.end()
      return
    case 'retry':
      span.event('retry', { 'event_driven.retry.delay_ms': settlement.delayMs })
      // Why is on the handler's span (its error), or in the log (the ledger could not be read).
      span.end('retried')
      return
    case 'deadLettered':
    case 'parked':
      span.event(settlement.kind === 'parked' ? 'parked' : 'dead_letter', {
        'event_driven.dlq.entry_id': settlement.letter.entryId,
        'event_driven.dlq.reason': settlement.letter.reason.slice(0, 500),
      })
      span.end(settlement.letter.reason)
      return
    case 'unrecorded':
      span.event('retry', { 'event_driven.retry.delay_ms': settlement.delayMs })
      span.end(settlement.parkError)
      return
  }
}

function observeSettlement(
  metrics: ServiceMetrics,
  group: ConsumerGroup,
  delivery: Delivery,
  settlement: Settlement,
) {
  metrics.delivered({
    consumerGroup: group.consumerGroup,
    // From code, never from the message: a forged subject must not mint a label value.
    subject: labelSubject(delivery.raw, group),
    outcome: outcomeOf(settlement),
    attempt: delivery.attempt,
  })
}

/** A settlement as metrics name it. */
function outcomeOf(settlement: Settlement): DeliveryOutcome {
  switch (settlement.kind) {
    case 'ack':
      return settlement.note === handledNote ? 'handled' : 'duplicate'
    case 'retry':
      return 'retried'
    case 'deadLettered':
      return 'dead_lettered'
    default:
      return settlement.kind
  }
}

async function decide(delivery: Delivery, group: ConsumerGroup): Promise<Outcome> {
  let current = delivery
  for (const step of deliverySteps) {
    const result = await step(current, group)
    if (result.kind !== 'next') return result
    current = result.delivery
  }
  throw new Error('the delivery steps ended without an outcome')
}
