import type { JsMsg } from '@nats-io/jetstream'
import type { Logger } from 'pino'
import { readEventData, type EventDefinition } from '../event-definition.ts'
import { EventValidationError, HandlerTimeoutError } from '../errors.ts'
import { childPublisher, type Publisher } from '../publish/publisher.ts'
import { readDelivery, type RawDelivery } from '../publish/wire.ts'
import { signatureRefusal, type MessageSigner } from '../publish/signature.ts'
import type { AttemptError, EventStore } from '../store/event-store.ts'
import { deliveryKey, dlqEntryId } from '../store/keys.ts'
import { recordDeadLetter, recordEntryAlert, type DeadLetter } from './dlq.ts'
import {
  attemptError,
  attemptsOf,
  recordFailure,
  recordLostAttempts,
  unreadAttempts,
} from './failures.ts'
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
  /** JetStream drops a repeated message id within this window; past it, the ledger must. */
  duplicateWindowMs: number
  store: EventStore
  ledger: Ledger
  signer: MessageSigner
  /** Parks a letter MongoDB did not take (see `park.ts`); rejects when NATS did not take it either. */
  park: (letter: DeadLetter, cause: unknown) => Promise<void>
  logger: Logger
  /** Where the handler's child events go (ids derived from this delivery). */
  publisher: Publisher
}

/** Input that no retry can fix: it goes to the DLQ on its first delivery. */
class BadInput extends Error {}

/**
 * One delivery, in a fixed order: signature → decode → validate → ledger check → handler →
 * ledger write → ack. A failure is recorded, then retried with backoff (`nak`) or given up: a
 * DLQ entry (or, when MongoDB does not take it, a parked message), then `term`. A message whose
 * outcome cannot be recorded anywhere is never acknowledged.
 */
export async function handleDelivery(msg: JsMsg, group: ConsumerGroupContext): Promise<void> {
  const delivery = readDelivery(msg, group.subjectPrefix)
  const attempt = msg.info.deliveryCount
  const logger = group.logger.child({
    eventId: delivery.eventId.slice(0, 200),
    operationId: delivery.operationId?.slice(0, 200),
    consumerGroup: group.consumerGroup,
    attempt,
  })
  const giveUp = (reason: string, attempts: AttemptError[], extra: Partial<DeadLetter> = {}) =>
    deadLetter(
      msg,
      group,
      { ...letterFor(msg, group, delivery, reason, attempts), ...extra },
      logger,
    )
  const refuse = (reason: string, trusted: boolean) =>
    giveUp(reason, [attemptError(attempt, new Error(reason), msg.seq)], { trusted })

  const signature = group.signer.verify(msg.subject, delivery.headers, delivery.body)
  // Headers that cannot be read cannot be verified either: say what is wrong with them.
  if (signature !== 'valid')
    return refuse((!delivery.headers && delivery.problem) || signatureRefusal(signature), false)
  if (delivery.problem) return refuse(delivery.problem, true)
  if (delivery.subject !== group.definition.subject)
    return refuse(
      `this consumer group handles ${group.definition.subject}, not ${delivery.subject.slice(0, 200)}`,
      true,
    )
  let event: ReceivedEvent
  try {
    event = await decode(delivery, group.definition)
  } catch (error) {
    if (!(error instanceof BadInput || error instanceof EventValidationError)) throw error
    return refuse(error.message, true)
  }

  // A replay runs the handler again: its deliveries have ledger, failure and DLQ keys of their own.
  const key = deliveryKey(delivery.eventId, group.consumerGroup, delivery.replayId)
  const failed = failedDelivery(group, delivery, key, msg.seq)
  if (needsLedgerCheck(attempt, delivery, storedAtMs(msg), group.duplicateWindowMs)) {
    try {
      if (await group.ledger.isProcessed(key)) {
        logger.debug(
          'already processed by this consumer group: acknowledged without running the handler',
        )
        return msg.ack()
      }
    } catch (error) {
      // Unknown whether it was processed: retry while attempts are left; past them, give it up
      // with its ledger key, so a parked letter is checked against the ledger again before it
      // becomes an entry. (An entry of a processed message is harmless: a redrive of it is
      // checked against the ledger and skipped.)
      logger.warn({ err: error }, 'could not read the processed ledger')
      if (attempt <= group.retry.maxFailures) return msg.nak(retryDelayMs(attempt, group.retry))
    }
  }

  if (attempt > group.retry.maxFailures) {
    // Past the last allowed failure: a crash or an expired ack wait on it, or a DLQ write that
    // failed before. Attempts that left no outcome count as failures.
    const attempts = await recordLostAttempts(group.store, failed, attempt).catch(() =>
      unreadAttempts(attempt, msg.seq),
    )
    return giveUp(gaveUpReason(attempts), attempts, { ledgerKey: key })
  }
  if (attempt > 1) {
    await recordLostAttempts(group.store, failed, attempt).catch((error: unknown) =>
      logger.warn({ err: error }, 'could not record the attempts before this one'),
    )
  }

  try {
    await runHandler(msg, group, event, attempt, logger)
  } catch (error) {
    return retryOrGiveUp(msg, group, failed, attempt, error, logger, (reason, attempts) =>
      giveUp(reason, attempts, { ledgerKey: key }),
    )
  }
  await group.ledger.markProcessed(key)
  msg.ack()
  logger.debug('handled')
}

/**
 * A first delivery of a message the framework published once cannot have been processed by this
 * group: only a redelivery, a message marked as a possible repeat, or one stored long after it
 * was created (a copy sent again past JetStream's duplicate window) needs the ledger read.
 */
export function needsLedgerCheck(
  attempt: number,
  delivery: Pick<RawDelivery, 'redelivery' | 'createdAt'>,
  storedAtMs: number,
  duplicateWindowMs: number,
): boolean {
  if (attempt > 1 || delivery.redelivery !== undefined) return true
  // Half the window: room for clocks that differ between the publisher and the broker.
  const age = storedAtMs - (delivery.createdAt?.getTime() ?? 0)
  return age > duplicateWindowMs / 2
}

/** When JetStream stored the message (its clock), in ms. */
function storedAtMs(msg: JsMsg): number {
  return msg.info.timestampNanos / 1e6
}

function gaveUpReason(attempts: AttemptError[]): string {
  const last = attempts.at(-1)
  return `failed ${attempts.length} times; last error: ${last?.message ?? 'unknown'}`
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

async function decode(
  delivery: RawDelivery,
  definition: EventDefinition<string, unknown>,
): Promise<ReceivedEvent> {
  let text: string
  try {
    text = utf8.decode(delivery.body)
  } catch {
    throw new BadInput(`the body is not UTF-8 text, so not JSON (${delivery.body.length} bytes)`)
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    throw new BadInput(`the body is not JSON (${(error as Error).message}): ${text.slice(0, 200)}`)
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

/** Runs the handler with a timeout (the consumer group keeps the message alive meanwhile). */
async function runHandler(
  msg: JsMsg,
  group: ConsumerGroupContext,
  event: ReceivedEvent,
  attempt: number,
  logger: Logger,
): Promise<void> {
  const abort = new AbortController()
  const ctx: HandlerContext = {
    consumerGroup: group.consumerGroup,
    attempt,
    signal: abort.signal,
    logger,
    publish: childPublisher(group.publisher, event, group.consumerGroup, attempt),
  }
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
    clearTimeout(timer)
  }
}

/** What a failure record is keyed and labelled with. */
function failedDelivery(
  group: ConsumerGroupContext,
  delivery: RawDelivery,
  key: string,
  streamSequence: number,
) {
  return {
    key,
    eventId: delivery.eventId,
    consumerGroup: group.consumerGroup,
    subject: delivery.subject,
    operationId: delivery.operationId,
    streamSequence,
  }
}

/** The DLQ letter of this delivery; trusted unless said otherwise (the signature checked out). */
function letterFor(
  msg: JsMsg,
  group: ConsumerGroupContext,
  delivery: RawDelivery,
  reason: string,
  attempts: AttemptError[],
): DeadLetter {
  return {
    entryId: dlqEntryId(delivery.eventId, group.consumerGroup, msg.info.stream, msg.seq),
    eventId: delivery.eventId,
    subject: delivery.subject,
    ...(delivery.version === undefined ? {} : { version: delivery.version }),
    ...(delivery.operationId ? { operationId: delivery.operationId } : {}),
    ...(delivery.parentId ? { parentId: delivery.parentId } : {}),
    ...(delivery.redriveOf ? { redriveOf: delivery.redriveOf } : {}),
    consumerGroup: group.consumerGroup,
    service: group.service,
    handler: group.handlerName,
    reason,
    attempts,
    trusted: true,
    stream: msg.info.stream,
    streamSequence: msg.seq,
    body: delivery.body,
    headerBlock: delivery.headerBlock,
  }
}

async function retryOrGiveUp(
  msg: JsMsg,
  group: ConsumerGroupContext,
  failed: ReturnType<typeof failedDelivery>,
  attempt: number,
  error: unknown,
  logger: Logger,
  giveUp: (reason: string, attempts: AttemptError[]) => Promise<void>,
): Promise<void> {
  const message = error instanceof Error ? error.message : String(error)
  let attempts: AttemptError[]
  try {
    const record = await recordFailure(group.store, { ...failed, attempt, error })
    attempts = attemptsOf(record, failed.streamSequence)
    logger.warn(
      { err: error },
      `Failed ${attempts.length} times, consumer group: ${group.consumerGroup}, event: ${failed.eventId}, error: ${message}`,
    )
  } catch (recordError) {
    // Without MongoDB the failure cannot be recorded; JetStream's count still advances, and the
    // delivery after the last allowed one gives the message up (to the DLQ, or parked).
    logger.error({ err: recordError }, 'could not record the failure; retrying the delivery')
    return msg.nak(retryDelayMs(attempt, group.retry))
  }
  if (attempt >= group.retry.maxFailures) return giveUp(gaveUpReason(attempts), attempts)
  msg.nak(retryDelayMs(attempt, group.retry))
}

/**
 * Gives a message up: records its DLQ entry (or parks it), then terminates it in JetStream.
 * When neither MongoDB nor the parked stream takes it, it is left unacknowledged: JetStream
 * delivers it again, and the next delivery gives it up again.
 */
async function deadLetter(
  msg: JsMsg,
  group: ConsumerGroupContext,
  letter: DeadLetter,
  logger: Logger,
): Promise<void> {
  const summary = `consumer group: ${group.consumerGroup}, event: ${letter.eventId.slice(0, 200)}, reason: ${letter.reason}`
  try {
    await recordDeadLetter(group.store, letter)
  } catch (error) {
    try {
      await group.park(letter, error)
    } catch (parkError) {
      logger.error(
        { err: parkError, cause: error },
        'could not record the DLQ entry nor park the message; it stays unacknowledged and is delivered again',
      )
      return msg.nak(retryDelayMs(msg.info.deliveryCount, group.retry))
    }
    msg.term(letter.reason.slice(0, 200))
    logger.error(
      { err: error, entryId: letter.entryId },
      `Parked for the dead letter queue (MongoDB did not take the entry; it moves there once it does), ${summary}`,
    )
    return
  }
  msg.term(letter.reason.slice(0, 200))
  logger.error({ entryId: letter.entryId }, `Moved to the dead letter queue, ${summary}`)
  if (group.alertsOn) {
    // The entry is safe; an alert that cannot be recorded is logged, never a reason to retry.
    await recordEntryAlert(group.store, letter).catch((error: unknown) =>
      logger.error({ err: error }, 'could not record the Slack alert for this DLQ entry'),
    )
  }
}
