import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream'
import { headers as natsHeaders, nanos } from '@nats-io/transport-node'
import type { Logger } from 'pino'
import { slackSdk } from '../optional-peers.ts'
import { publishSigned, type MessageSigner } from '../publish/signature.ts'
import { eventHeaders } from '../publish/wire.ts'
import { currentFormat, formatOf } from '../version/formats.ts'
import type { AttemptError, EventStore } from '../store/event-store.ts'
import type { ResolvedStreamOptions } from '../streams.ts'
import { JetStreamCodes } from '../server-codes.ts'
import { recordEntry, type DeadLetter } from './dlq.ts'
import { durableOf } from './group-names.ts'
import { retryDelayMs, type RetryPolicy } from './retry.ts'

/**
 * The last resort of the DLQ. A consumer group gives a message up only once it is recorded
 * somewhere: when MongoDB does not take the DLQ entry, the message is parked in a JetStream
 * stream of its own (no age limit) with everything the entry needs, and a Slack alert goes out at
 * once (it cannot wait for MongoDB). A mover in every instance writes parked messages into the
 * DLQ as soon as MongoDB takes them. If even parking fails, the message is not acknowledged and
 * JetStream delivers it again (consumer groups have no delivery limit): never given up silently.
 */

/** The header of a parked message that carries the letter (JSON); the body is the original's. */
const letterHeader = 'Dlq-Letter'

export function parkedStreamName(streamName: string): string {
  return `${streamName}_PARKED`
}

function parkedSubjects(subjectPrefix: string): string {
  return `${subjectPrefix}_parked.>`
}

/**
 * Creates the parked stream when it is missing: a work queue on files, with no age limit and as
 * many replicas as the events' stream.
 */
export async function provisionParkedStream(
  jsm: JetStreamManager,
  stream: ResolvedStreamOptions,
): Promise<void> {
  const name = parkedStreamName(stream.name)
  try {
    await jsm.streams.info(name)
    return
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== JetStreamApiCodes.StreamNotFound)
      throw error
  }
  try {
    await jsm.streams.add({
      name,
      subjects: [parkedSubjects(stream.subjectPrefix)],
      // A letter leaves the stream once the mover has written its entry.
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      max_age: 0,
      num_replicas: stream.replicas,
      description: `DLQ entries waiting for MongoDB (stream ${stream.name})`,
    })
  } catch (error) {
    // Another instance created it in the meantime.
    if (!(error instanceof JetStreamApiError) || error.code !== JetStreamCodes.StreamNameInUse)
      throw error
  }
}

/** A letter as JSON: bytes as base64, the body left out (it is the parked message's body). */
type LetterJson = Omit<DeadLetter, 'body' | 'headerBlock' | 'attempts'> & {
  headerBlock: string
  attempts: (Omit<AttemptError, 'at' | 'stack'> & { at: string })[]
}

/** Publishes the letter to the parked stream; its id makes parking the same cycle twice a no-op. */
export async function parkDeadLetter(
  js: JetStreamClient,
  signer: MessageSigner,
  subjectPrefix: string,
  letter: DeadLetter,
): Promise<void> {
  const { body, ...rest } = letter
  const json: LetterJson = {
    ...rest,
    headerBlock: Buffer.from(letter.headerBlock).toString('base64'),
    // Stacks stay out: a parked message must stay within the broker's max payload.
    attempts: letter.attempts.map(({ stack: _stack, ...a }) => ({ ...a, at: a.at.toISOString() })),
  }
  const headers = natsHeaders()
  headers.set(eventHeaders.format, String(currentFormat))
  // JSON escapes every control character, so it is a valid header value.
  headers.set(letterHeader, JSON.stringify(json))
  const subject = `${subjectPrefix}_parked.${durableOf(letter.consumerGroup)}`
  await publishSigned(js, signer, subject, body, { msgID: `park:${letter.entryId}`, headers })
}

function readLetter(msg: JsMsg): DeadLetter {
  const json = JSON.parse(msg.headers?.get(letterHeader) ?? '') as LetterJson
  return {
    ...json,
    headerBlock: Buffer.from(json.headerBlock, 'base64'),
    attempts: json.attempts.map((a) => ({ ...a, at: new Date(a.at) })),
    body: msg.data,
  }
}

export interface ParkedMoverOptions {
  js: JetStreamClient
  jsm: JetStreamManager
  store: EventStore
  stream: ResolvedStreamOptions
  signer: MessageSigner
  retry: RetryPolicy
  /** Record a pending Slack alert for each entry moved into the DLQ. */
  alertsOn: boolean
  /** True when a consumer group finished the delivery after all (then no entry is made). */
  isProcessed: (ledgerKey: string) => Promise<boolean>
  logger: Logger
}

/**
 * Moves parked messages into the DLQ, in every instance (they share one durable consumer): each
 * letter becomes its entry by the same insert as on the normal path, then is acknowledged. While
 * MongoDB refuses, letters are delivered again with backoff. Returns a stop function.
 */
export async function startParkedMover(options: ParkedMoverOptions): Promise<() => Promise<void>> {
  const { js, jsm, store, stream, signer, logger } = options
  const streamName = parkedStreamName(stream.name)
  const durable = 'dlq_mover'
  try {
    await jsm.consumers.info(streamName, durable)
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== JetStreamApiCodes.ConsumerNotFound)
      throw error
    await jsm.consumers.add(streamName, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(30_000),
      max_deliver: -1,
      deliver_policy: DeliverPolicy.All,
      description: 'moves parked messages into the DLQ once MongoDB takes them',
    })
  }
  const consumer = await js.consumers.get(streamName, durable)
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 16 })

  const move = async (msg: JsMsg) => {
    let letter: DeadLetter
    try {
      // Parked by a newer version (a deploy rolled back): left for an instance that reads it.
      const format = formatOf(msg.headers?.get(eventHeaders.format) || undefined)
      if (Number.isInteger(format) && format > currentFormat) {
        logger.warn(
          { stream: streamName, seq: msg.seq, format },
          'a parked letter waits for an upgraded instance',
        )
        return msg.nak(60_000)
      }
      letter = readLetter(msg)
    } catch (error) {
      // Not a letter the framework parked (someone published on the parked subjects).
      logger.error(
        { err: error, stream: streamName, seq: msg.seq },
        'a message in the parked stream is not a DLQ letter; it was dropped',
      )
      return msg.term('not a DLQ letter')
    }
    // A letter that was tampered with stays untrusted: its entry can never be redriven.
    const trusted = letter.trusted && signer.verify(msg.subject, msg.headers, msg.data) === 'valid'
    try {
      if (letter.ledgerKey && (await options.isProcessed(letter.ledgerKey))) {
        logger.info(
          { eventId: letter.eventId, consumerGroup: letter.consumerGroup },
          'a parked message was processed by its consumer group after all: no DLQ entry',
        )
        return msg.ack()
      }
      await recordEntry(
        store,
        { ...letter, trusted },
        { alertsOn: options.alertsOn, logger, parkedAt: msg.time },
      )
      msg.ack()
      logger.warn(
        { eventId: letter.eventId, consumerGroup: letter.consumerGroup, entryId: letter.entryId },
        'a parked message was moved into the DLQ',
      )
    } catch (error) {
      const attempt = msg.info.deliveryCount
      logger.error(
        { err: error, attempt },
        'could not move a parked message into the DLQ yet; it stays parked and is tried again',
      )
      msg.nak(retryDelayMs(attempt, options.retry))
    }
  }

  const loop = (async () => {
    for await (const msg of messages) await move(msg)
  })().catch((error: unknown) =>
    logger.error({ err: error }, 'the parked-message mover stopped pulling'),
  )
  return async () => {
    await messages.close().catch(() => undefined)
    await loop
  }
}

/**
 * Slack alerts for parked messages, sent straight from this instance (MongoDB, where alerts
 * usually wait, is what failed): one message per window, with how many were parked and why.
 */
export function parkAlerts(
  slackWebhookUrl: string | undefined,
  windowMs: number,
  logger: Logger,
): { parked(letter: DeadLetter, cause: unknown): void; stop(): Promise<void> } {
  const webhook = slackWebhookUrl ? new (slackSdk().IncomingWebhook)(slackWebhookUrl) : undefined
  let batch: { letter: DeadLetter; cause: string }[] = []
  let timer: NodeJS.Timeout | undefined
  let sending: Promise<void> = Promise.resolve()

  const flush = () => {
    timer = undefined
    const parked = batch
    batch = []
    if (!webhook || parked.length === 0) return
    const groups = [...new Set(parked.map((p) => p.letter.consumerGroup))].join(', ')
    const text =
      `:warning: ${parked.length} failed message${parked.length === 1 ? '' : 's'} could not be written to the DLQ ` +
      `(MongoDB: ${parked[0]!.cause.slice(0, 300)}) and ${parked.length === 1 ? 'was' : 'were'} parked in JetStream. ` +
      `Consumer groups: ${groups}. They move into the DLQ by themselves once MongoDB takes writes again; nothing is lost.`
    sending = sending
      .then(() => webhook.send({ text }))
      .then(() => undefined)
      .catch((error: unknown) =>
        logger.error({ err: error }, 'could not send the Slack alert for parked messages'),
      )
  }
  return {
    parked(letter, cause) {
      batch.push({ letter, cause: cause instanceof Error ? cause.message : String(cause) })
      timer ??= setTimeout(flush, windowMs)
    },
    async stop() {
      clearTimeout(timer)
      flush()
      await sending
    },
  }
}
