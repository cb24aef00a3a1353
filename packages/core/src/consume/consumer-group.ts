import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream'
import { nanos } from '@nats-io/transport-node'
import { redriveSubject, wireSubject } from '../publish/wire.ts'
import { storedDeadLetters } from './dead-letter.ts'
import { DeliveriesInFlight } from './deliveries-in-flight.ts'
import { handleDelivery, type ConsumerGroup, type ConsumerGroupContext } from './delivery.ts'
import { failureLog } from './failures.ts'
import { durableName } from './group-names.ts'
import type { ConsumerGroupState } from '../health/service-health.ts'
import { retry } from './outcome.ts'
import { settle } from './settle.ts'

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
  concurrency: number
  context: ConsumerGroupContext
}

/**
 * Creates (or updates) the group's durable pull consumer and consumes it with at most
 * `concurrency` deliveries in flight in this instance. Every instance of the service pulls from
 * the same durable, so they share the work.
 */
export async function startConsumerGroup(
  options: StartConsumerGroupOptions,
): Promise<RunningConsumerGroup> {
  const { jsm, js, stream, concurrency, context } = options
  const group = storedConsumerGroup(context)
  const durable = durableName(context.service, context.handlerName)
  const config: Partial<ConsumerConfig> = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(context.settings.ackWaitMs),
    // No limit: the framework counts failures and gives a message up only once it is recorded
    // (DLQ entry or parked), so JetStream never drops one on its own (see consume/park.ts).
    max_deliver: -1,
    // The event's subject, and this group's own redrive subject (redrives reach no other group).
    filter_subjects: [
      wireSubject(context.settings.subjectPrefix, context.definition.subject),
      redriveSubject(context.settings.subjectPrefix, durable),
    ],
    deliver_policy: DeliverPolicy.All,
    description: `consumer group ${context.consumerGroup}`,
  }
  await ensureConsumer(jsm, stream, durable, config)

  const consumer = await js.consumers.get(stream, durable)
  const messages: ConsumerMessages = await consumer.consume({ max_messages: concurrency })
  const inFlight = new Set<Promise<void>>()
  const eventsInFlight = new DeliveriesInFlight()
  let stopping = false
  let state: ConsumerGroupState = 'pulling'
  let freeSlot: (() => void) | undefined

  const loop = (async () => {
    for await (const msg of messages) {
      if (stopping) {
        // Pulled but not started: hand it to another instance now.
        settle(msg, retry(0), context.logger)
        continue
      }
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
          freeSlot?.()
        })
      inFlight.add(delivery)
      while (inFlight.size >= concurrency && !stopping) {
        await new Promise<void>((resolve) => (freeSlot = resolve))
      }
    }
  })().then(
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
      freeSlot?.()
      // With NATS down the pull cannot be closed cleanly; it is abandoned, and JetStream
      // redelivers whatever this instance did not ack.
      await messages.close().catch(() => undefined)
      messages.stop()
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
      JSON.stringify(current.filter_subjects ?? [current.filter_subject]) !==
        JSON.stringify(config.filter_subjects)
    ) {
      // The service owns its consumer groups: bring the durable in line with this code.
      await jsm.consumers.update(stream, durable, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        filter_subjects: config.filter_subjects,
        description: config.description,
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
