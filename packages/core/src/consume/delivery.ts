import type { JsMsg } from '@nats-io/jetstream'
import type { Logger } from 'pino'
import { readEventData, type EventDefinition } from '../event-definition.ts'
import { EventValidationError, HandlerTimeoutError } from '../errors.ts'
import { childEventId } from '../ids.ts'
import type { Outbox } from '../publish/outbox.ts'
import { readDelivery, type RawDelivery } from '../publish/wire.ts'
import { deliveryKey, type EventStore } from '../store/event-store.ts'
import { recordPendingAlert } from '../alert/dlq-alerts.ts'
import { recordDeadLetter } from './dlq.ts'
import { attemptError, lostAttemptMessage, recordFailure, recordLostAttempts } from './failures.ts'
import type { EventHandler, HandlerContext, ReceivedEvent } from './handler.ts'
import type { Ledger } from './ledger.ts'
import { retryDelayMs, type RetryPolicy } from './retry.ts'
import { UnknownVersionError } from '../version/upcast.ts'

/** Everything one consumer group needs to handle a delivery. */
export interface ConsumerGroupContext {
  service: string
  /** Record a pending Slack alert for each new DLQ entry. */
  alertsOn: boolean
  handlerName: string
  consumerGroup: string
  definition: EventDefinition<string, unknown>
  handler: EventHandler<unknown>
  timeoutMs: number
  ackWaitMs: number
  retry: RetryPolicy
  subjectPrefix: string
  store: EventStore
  ledger: Ledger
  outbox: Outbox
  logger: Logger
  /** Builds and validates a child event record, then publishes it through the outbox. */
  publishChild: (
    child: { parent: ReceivedEvent; consumerGroup: string; id: string; attempt: number },
    definition: EventDefinition<string, unknown>,
    data: unknown,
  ) => Promise<string>
}

/** Input that no retry can fix: it goes to the DLQ on its first delivery. */
class BadInput extends Error {}

/**
 * One delivery, in a fixed order: decode → validate → ledger check → handler → ledger write →
 * ack; a failure is recorded, then retried with backoff (`nak`) or moved to the DLQ (`term`).
 */
export async function handleDelivery(msg: JsMsg, group: ConsumerGroupContext): Promise<void> {
  const delivery = readDelivery(msg, group.subjectPrefix)
  const attempt = msg.info.deliveryCount
  // A replay runs the handler again: its deliveries have ledger, failure and DLQ keys of their own.
  const key =
    deliveryKey(delivery.eventId, group.consumerGroup) +
    (delivery.replayId ? `#replay:${delivery.replayId}` : '')
  const logger = group.logger.child({
    eventId: delivery.eventId,
    operationId: delivery.operationId,
    consumerGroup: group.consumerGroup,
    attempt,
  })

  let event: ReceivedEvent
  try {
    event = await decode(delivery, group.definition)
  } catch (error) {
    if (!(error instanceof BadInput || error instanceof EventValidationError)) throw error
    return deadLetter(msg, group, delivery, key, logger, error.message, [
      attemptError(attempt, error),
    ])
  }

  if (needsLedgerCheck(attempt, delivery) && (await group.ledger.isProcessed(key))) {
    logger.debug(
      'already processed by this consumer group: acknowledged without running the handler',
    )
    msg.ack()
    return
  }

  if (attempt > 1) {
    const failure = await recordLostAttempts(
      group.store,
      failedDelivery(group, delivery, key),
      attempt,
    )
    // The safety delivery after the last allowed failure (a crash or an expired ack wait on it).
    if (attempt > group.retry.maxFailures) {
      const reason = lostAttemptMessage(attempt - 1)
      return deadLetter(msg, group, delivery, key, logger, reason, failure?.attempts ?? [])
    }
  }

  try {
    await runHandler(msg, group, event, attempt, logger)
  } catch (error) {
    return retryOrDeadLetter(msg, group, delivery, key, attempt, error, logger)
  }
  await group.ledger.markProcessed(key)
  msg.ack()
  logger.debug('handled')
}

/**
 * A first delivery of a message published once cannot have been processed by this group: only a
 * redelivery, or a message marked as a possible repeat, needs the ledger read.
 */
export function needsLedgerCheck(attempt: number, delivery: RawDelivery): boolean {
  return attempt > 1 || delivery.redelivery !== undefined
}

async function decode(
  delivery: RawDelivery,
  definition: EventDefinition<string, unknown>,
): Promise<ReceivedEvent> {
  let body: unknown
  try {
    body = JSON.parse(delivery.body)
  } catch (error) {
    throw new BadInput(
      `the body is not JSON (${(error as Error).message}): ${delivery.body.slice(0, 200)}`,
    )
  }
  // Old versions are lifted by the definition's upcasters: the handler sees the current shape.
  const publishedVersion = delivery.version ?? definition.version
  let data: unknown
  try {
    data = await readEventData(definition, body, publishedVersion)
  } catch (error) {
    if (error instanceof UnknownVersionError) throw new BadInput(error.message)
    throw error
  }
  return {
    id: delivery.eventId,
    subject: delivery.subject,
    version: definition.version,
    publishedVersion,
    data,
    operationId: delivery.operationId ?? delivery.eventId,
    parentId: delivery.parentId ?? delivery.operationId ?? delivery.eventId,
    createdAt: delivery.createdAt ?? new Date(),
    ...(delivery.redelivery ? { redelivery: delivery.redelivery } : {}),
  }
}

/** Runs the handler with a timeout, keeping the message alive while it runs. */
async function runHandler(
  msg: JsMsg,
  group: ConsumerGroupContext,
  event: ReceivedEvent,
  attempt: number,
  logger: Logger,
): Promise<void> {
  const abort = new AbortController()
  const ordinals = new Map<string, number>()
  const ctx: HandlerContext = {
    consumerGroup: group.consumerGroup,
    attempt,
    signal: abort.signal,
    logger,
    publish: (definition, data) => {
      const ordinal = (ordinals.get(definition.subject) ?? 0) + 1
      ordinals.set(definition.subject, ordinal)
      const id = childEventId(event.id, group.consumerGroup, definition.subject, ordinal)
      return group.publishChild(
        { parent: event, consumerGroup: group.consumerGroup, id, attempt },
        definition,
        data,
      )
    },
  }
  const keepAlive = setInterval(() => msg.working(), Math.max(50, Math.floor(group.ackWaitMs / 3)))
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new HandlerTimeoutError(
        `the handler ran longer than its timeout of ${group.timeoutMs} ms`,
      )
      abort.abort(error)
      reject(error)
    }, group.timeoutMs)
  })
  try {
    await Promise.race([group.handler(event, ctx), timeout])
  } finally {
    clearInterval(keepAlive)
    clearTimeout(timer)
  }
}

/** What a failure record is keyed and labelled with. */
function failedDelivery(group: ConsumerGroupContext, delivery: RawDelivery, key: string) {
  return {
    key,
    eventId: delivery.eventId,
    consumerGroup: group.consumerGroup,
    subject: delivery.subject,
    operationId: delivery.operationId,
  }
}

async function retryOrDeadLetter(
  msg: JsMsg,
  group: ConsumerGroupContext,
  delivery: RawDelivery,
  key: string,
  attempt: number,
  error: unknown,
  logger: Logger,
): Promise<void> {
  const message = error instanceof Error ? error.message : String(error)
  let failures: number
  let attempts
  try {
    const record = await recordFailure(group.store, {
      ...failedDelivery(group, delivery, key),
      attempt,
      error,
    })
    failures = record.failures
    attempts = record.attempts
  } catch (recordError) {
    // Without MongoDB the failure cannot be recorded; JetStream's count still advances.
    logger.error({ err: recordError }, 'could not record the failure; retrying the delivery')
    msg.nak(retryDelayMs(attempt, group.retry))
    return
  }
  logger.warn(
    { err: error },
    `Failed ${failures} times, consumer group: ${group.consumerGroup}, event: ${delivery.eventId}, error: ${message}`,
  )
  if (attempt >= group.retry.maxFailures) {
    return deadLetter(
      msg,
      group,
      delivery,
      key,
      logger,
      `failed ${attempt} times; last error: ${message}`,
      attempts,
    )
  }
  msg.nak(retryDelayMs(attempt, group.retry))
}

async function deadLetter(
  msg: JsMsg,
  group: ConsumerGroupContext,
  delivery: RawDelivery,
  key: string,
  logger: Logger,
  reason: string,
  attempts: ReturnType<typeof attemptError>[],
): Promise<void> {
  let cycle: number
  try {
    cycle = await recordDeadLetter(group.store, {
      key,
      delivery,
      consumerGroup: group.consumerGroup,
      service: group.service,
      handler: group.handlerName,
      reason,
      attempts,
      stream: msg.info.stream,
      streamSequence: msg.seq,
    })
  } catch (error) {
    // Not recorded, so not terminated: the next delivery tries again.
    logger.error({ err: error }, 'could not record the DLQ entry; the delivery will be retried')
    msg.nak(retryDelayMs(1, group.retry))
    return
  }
  msg.term(reason.slice(0, 200))
  logger.error(
    { reason },
    `Moved to the dead letter queue, consumer group: ${group.consumerGroup}, event: ${delivery.eventId}, reason: ${reason}`,
  )
  if (group.alertsOn) {
    // The entry is safe; an alert that cannot be recorded is logged, never a reason to retry.
    await recordPendingAlert(group.store, {
      _id: `${key}#${cycle}`,
      service: group.service,
      consumerGroup: group.consumerGroup,
      subject: delivery.subject,
      error: attempts.at(-1)?.message ?? reason,
      createdAt: new Date(),
    }).catch((error: unknown) =>
      logger.error({ err: error }, 'could not record the Slack alert for this DLQ entry'),
    )
  }
}
