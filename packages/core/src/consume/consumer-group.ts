import {
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream'
import { ConfigurationError } from '../errors.ts'
import { anyPartitionFilter } from '../ordering/keyed-subjects.ts'
import { storedDeadLetters } from './dead-letter.ts'
import { DeliveriesInFlight } from './deliveries-in-flight.ts'
import { handleDelivery, type ConsumerGroup, type ConsumerGroupContext } from './delivery.ts'
import { failureLog } from './failures.ts'
import { groupDurables } from './group-durables.ts'
import { keepAlive } from './keep-alive.ts'
import type { ConsumerGroupState } from '../health/service-health.ts'
import { retry } from './outcome.ts'
import { settle } from './settle.ts'

/**
 * How long one pull request waits before it is renewed. A pull lost with its consumer's leader
 * (a cluster node died) is noticed only when it expires: with nats.js's default of 30 s, the
 * ordered partitions in the cluster test stalled for about 45 s after the kill; with 5 s, 11 s.
 */
const pullExpiresMs = 5_000

export interface RunningConsumerGroup {
  consumerGroup: string
  /** Where it stands: `pulling` while its consume loop runs (see `ConsumerGroupState`). */
  state(): ConsumerGroupState
  /** Stops pulling, waits up to `drainTimeoutMs` for in-flight deliveries, and returns how many did not finish. */
  stop(drainTimeoutMs: number): Promise<number>
}

export interface StartConsumerGroupOptions {
  jsm: JetStreamManager
  js: JetStreamClient
  stream: string
  /** Deliveries this instance handles at once, over all of the group's durables. */
  concurrency: number
  /** The stream's partitions of keyed events; undefined when it does not partition them. */
  partitions: number | undefined
  context: ConsumerGroupContext
}

/**
 * Creates (or updates) the group's durable pull consumers (`group-durables.ts`) and consumes
 * them with at most `concurrency` deliveries in flight in this instance. Every instance of the
 * service pulls from the same durables, so they share the work; an ordered group's partitions
 * are not assigned to instances: each partition has one message in flight at a time, wherever.
 */
export async function startConsumerGroup(
  options: StartConsumerGroupOptions,
): Promise<RunningConsumerGroup> {
  const { jsm, js, stream, concurrency, context } = options
  const group = storedConsumerGroup(context)
  const durables = groupDurables(context, options)
  if (durables.length > 1) await refuseLateOrdering(jsm, stream, context, durables[0]!.durable)
  for (const { durable, config } of durables) await ensureConsumer(jsm, stream, durable, config)
  const pulls: ConsumerMessages[] = []
  for (const { durable, maxMessages } of durables) {
    const consumer = await js.consumers.get(stream, durable)
    pulls.push(await consumer.consume({ max_messages: maxMessages, expires: pullExpiresMs }))
  }
  const inFlight = new Set<Promise<void>>()
  const eventsInFlight = new DeliveriesInFlight()
  let stopping = false
  let state: ConsumerGroupState = 'pulling'
  const slotFreed = new Set<() => void>()
  const freeSlots = () => {
    for (const wake of slotFreed) wake()
    slotFreed.clear()
  }

  const deliver = (msg: JsMsg) => {
    const delivery: Promise<void> = handleDelivery(msg, group, eventsInFlight)
      .then(
        () => undefined,
        // Not even settled (NATS is gone): JetStream delivers it again after the ack wait.
        (error: unknown) =>
          context.logger.error(
            { err: error, consumerGroup: context.consumerGroup },
            'delivery failed unexpectedly; it will be redelivered',
          ),
      )
      .finally(() => {
        inFlight.delete(delivery)
        freeSlots()
      })
    inFlight.add(delivery)
  }

  const pull = async (messages: ConsumerMessages) => {
    for await (const msg of messages) {
      // Pulled, waiting for a free slot in this instance: kept alive, so waiting never counts.
      const stopWaiting = keepAlive(msg, context.settings.ackWaitMs)
      while (inFlight.size >= concurrency && !stopping)
        await new Promise<void>((resolve) => slotFreed.add(resolve))
      stopWaiting()
      // Pulled but not started when the group stops: hand it to another instance now.
      if (stopping) settle(msg, retry(0), context.logger)
      else deliver(msg)
    }
  }
  const loop = Promise.all(pulls.map(pull)).then(
    () => {
      // The messages ended without stop(): nothing pulls any more.
      if (state === 'pulling') state = 'stopped'
    },
    (error: unknown) => {
      // The pull ended with an error (its consumer or stream was deleted): say so, never crash.
      state = 'failed'
      context.logger.error(
        { err: error, consumerGroup: context.consumerGroup },
        'the consumer group stopped pulling messages',
      )
    },
  )

  return {
    consumerGroup: context.consumerGroup,
    state: () => state,
    async stop(drainTimeoutMs) {
      stopping = true
      if (state === 'pulling') state = 'stopping'
      freeSlots()
      // With NATS down the pulls cannot be closed cleanly; they are abandoned, and JetStream
      // redelivers whatever this instance did not ack.
      await Promise.all(
        pulls.map(async (messages) => {
          await messages.close().catch(() => undefined)
          messages.stop()
        }),
      )
      await loop
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<'timeout'>(
        (resolve) => (timer = setTimeout(() => resolve('timeout'), drainTimeoutMs)),
      )
      const outcome = await Promise.race([
        Promise.all(inFlight).then(() => 'drained' as const),
        timedOut,
      ])
      clearTimeout(timer)
      if (state === 'stopping') state = 'stopped'
      return outcome === 'drained' ? 0 : inFlight.size
    },
  }
}

/**
 * A group that handled its keyed event unordered cannot become ordered in place: its new
 * partition durables would start at the stream's beginning and deliver every keyed event still
 * there again, as first deliveries (never checked against the ledger).
 */
async function refuseLateOrdering(
  jsm: JetStreamManager,
  stream: string,
  context: ConsumerGroupContext,
  durable: string,
): Promise<void> {
  const existing = await jsm.consumers.info(stream, durable).catch(() => undefined)
  const unordered = anyPartitionFilter(context.settings.subjectPrefix, context.definition.subject)
  if (existing?.config.filter_subjects?.includes(unordered)) {
    throw new ConfigurationError(
      `consumer group ${context.consumerGroup} handled ${context.definition.subject} unordered until now; ordering it in place would deliver the keyed events still in the stream again. Give the ordered handler a new name (a new consumer group), or keep ordered: false (docs/ordering.md, "Turning ordering on or off")`,
    )
  }
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  durable: string,
  config: Partial<ConsumerConfig>,
): Promise<void> {
  try {
    const existing = await jsm.consumers.info(stream, durable)
    const current = existing.config
    if (
      current.ack_wait !== config.ack_wait ||
      current.max_deliver !== config.max_deliver ||
      (config.max_ack_pending !== undefined &&
        current.max_ack_pending !== config.max_ack_pending) ||
      JSON.stringify(current.filter_subjects ?? [current.filter_subject]) !==
        JSON.stringify(config.filter_subjects)
    ) {
      // The service owns its consumer groups: bring the durable in line with this code.
      await jsm.consumers.update(stream, durable, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        filter_subjects: config.filter_subjects,
        description: config.description,
        ...(config.max_ack_pending !== undefined
          ? { max_ack_pending: config.max_ack_pending }
          : {}),
      })
    }
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== JetStreamApiCodes.ConsumerNotFound)
      throw error
    await jsm.consumers.add(stream, config)
  }
}

/** A group whose failure records and DLQ entries go to the event store, the parked stream behind. */
function storedConsumerGroup(context: ConsumerGroupContext): ConsumerGroup {
  const { store, alertsOn, park, ...group } = context
  return {
    ...group,
    failures: failureLog(store),
    deadLetters: storedDeadLetters(store, park, { alertsOn, logger: context.logger }),
  }
}
