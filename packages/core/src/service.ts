import { consumerGroupName } from './consume/group-names.ts'
import { handlerNamePattern } from './names.ts'
import { startDlqAlerts } from './alert/dlq-alerts.ts'
import { s3Client, startArchiver } from './archive/archiver.ts'
import { openServiceConnections } from './connections.ts'
import type { ConsumerGroupInfo } from './consume/group-info.ts'
import { startConsumerGroup, type RunningConsumerGroup } from './consume/consumer-group.ts'
import type { ConsumerGroupContext } from './consume/delivery.ts'
import type { EventHandler, HandlerOptions } from './consume/handler.ts'
import { createLedger } from './consume/ledger.ts'
import { parkAlerts, parkDeadLetter, startParkedMover } from './consume/park.ts'
import type { DlqManager } from './dlq/manage.ts'
import { ConfigurationError } from './errors.ts'
import type { EventDefinition } from './event-definition.ts'
import { onStop, startedBy, startParts, type Part } from './lifecycle.ts'
import { cachedMongoPing } from './health/mongo-ping.ts'
import { allMetrics, guardedMetrics } from './observe/metrics.ts'
import { flowRecorder } from './observe/flow/recorder.ts'
import { guardedTracing } from './observe/tracing.ts'
import { watchNatsState } from './health/nats-state.ts'
import {
  judgeHealth,
  type ConsumerGroupState,
  type ServiceHealth,
  type ServiceLifecycle,
} from './health/service-health.ts'
import {
  operationRecorder,
  operationStarter,
  startAbandonedOperationSweeper,
  type Operation,
  type StartOperationInput,
} from './operation.ts'
import { resolveServiceOptions, serviceDefaults, type ServiceOptions } from './options.ts'
import { createOutbox } from './publish/outbox.ts'
import { createPublisher } from './publish/publisher.ts'
import { startRelay } from './publish/relay.ts'
import { storeTools, type EventStoreTools } from './open-event-store.ts'
import {
  type EventSelection,
  type EventSource,
  type ReplayOptions,
  type ReplayResult,
} from './replay/replay.ts'
import {
  chooseRemover,
  retentionMessage,
  retentionOn,
  startSweeper,
} from './retention/retention.ts'
import { stopOnSignals } from './shutdown-signals.ts'
import { entityRegistry, type EntityState, type EntityStateOptions } from './state/entity-state.ts'
import { positionClaimer } from './state/change.ts'
import { changeSettler } from './state/settle.ts'
import { eventStreams, type EventStreams } from './event-sourcing/streams.ts'
import { streamTypeRegistry } from './event-sourcing/stream-types.ts'
import type { EventRecord, EventStore } from './store/event-store.ts'
import type { StreamDifference } from './streams.ts'
import { definitionRegistry } from './version/registry.ts'
import { pino } from 'pino'

export type { ServiceOptions } from './options.ts'
export type { ConsumerGroupInfo } from './consume/group-info.ts'
export type { ServiceHealth } from './health/service-health.ts'

export interface Service {
  readonly name: string
  /** The event store's collections (operations, events, outbox, failures, dlq, processed). */
  readonly store: EventStore
  /** The dead letter queue: list, show, redrive, discard, resolve. */
  readonly dlq: DlqManager
  /** The stream its events go through, and their subject prefix. */
  readonly stream: { name: string; subjectPrefix: string }
  /** Settings in which the existing stream differs from the configuration (reported, not changed). */
  readonly streamDifferences: readonly StreamDifference[]
  /** The stream's consumer groups, from JetStream: what is pending, in flight, redelivered. */
  consumerGroups(): Promise<ConsumerGroupInfo[]>
  /** The partitions of keyed events: what waits in each, and changing their number (`docs/ordering.md`). */
  readonly partitions: EventStoreTools['partitions']
  /**
   * Delivers stored or archived events again to one consumer group, with their ids; handlers
   * see `event.redelivery === 'replay'`. `dryRun` counts them.
   */
  replay(options: ReplayOptions): Promise<ReplayResult>
  /** Reads stored or archived events (as stored: not upcast), each once. */
  readEvents(select: EventSelection, from?: EventSource): AsyncIterable<EventRecord>
  /** Registers a handler: consumer group `<service>.<handler>`. Call before `start()`. */
  on<Data>(
    definition: EventDefinition<string, Data>,
    options: HandlerOptions,
    handler: EventHandler<Data>,
  ): void
  /** Starts the consumer groups and the relay. */
  start(): Promise<void>
  /**
   * Defines a kind of entity whose state changes go with their events (`Operation.change`), and
   * how its state is stored. Define it before `start()`, in every instance: reconciliation
   * finishes a crashed instance's changes with it.
   */
  entityState<State>(options: EntityStateOptions<State>): EntityState<State>
  /**
   * Event-sourced entities: their streams' kinds, reads and folds. Appends go through an
   * operation or a handler's run (`op.appendToStream`, `ctx.handleCommand`). See
   * docs/event-sourcing.md.
   */
  readonly streams: EventStreams
  /** Records an operation and returns it, to publish its events. Works before `start()`. */
  startOperation(input: StartOperationInput): Promise<Operation>
  /**
   * Stops pulling, drains in-flight handlers, acks what finished, closes what it opened.
   * Readiness (`health()`) turns false first, before any handler is drained.
   */
  stop(): Promise<void>
  /**
   * Whether this instance can take work, with each check: running, NATS connected (from the
   * connection's status events: no round trip), MongoDB answering (a `ping`, cached for 1 s),
   * every consumer group pulling, and not draining. Never throws.
   */
  health(): Promise<ServiceHealth>
}

/**
 * Connects to NATS and MongoDB, provisions the stream and the event store's indexes, and returns
 * a service to register handlers on and start operations from.
 */
export async function createService(serviceOptions: ServiceOptions): Promise<Service> {
  const options = resolveServiceOptions(serviceOptions)
  const { name, stream, retry, ackWaitMs } = options
  const logger = options.logger ?? pino({ name })
  const connections = await openServiceConnections(options, logger)
  const { js, jsm, store, signer } = connections
  const flow = options.flow && flowRecorder({ store, logger, ...options.flow })
  // The user's observer and the flow recorder each guarded: neither sees the other's failures.
  const metrics = allMetrics([
    options.metrics && guardedMetrics(options.metrics, logger),
    flow ? guardedMetrics(flow, logger, 'the flow recorder') : undefined,
  ])
  const tracing = options.tracing && guardedTracing(options.tracing, logger)

  // Without archiving, retention counts from publishing (events) and the end (operations).
  const expireWithoutArchive = options.archive ? undefined : options.retention
  const outbox = createOutbox({
    store,
    js,
    signer,
    subjectPrefix: stream.subjectPrefix,
    publishTimeoutMs: options.publishTimeoutMs,
    messageFormat: options.messageFormat,
    logger,
    expireAfterMs: expireWithoutArchive?.eventsMs,
    metrics,
    tracing,
    partitioned: connections.partitions !== undefined,
  })
  // With retention on, a ledger entry stays as long as JetStream can redeliver its event (a
  // stream without a max age keeps its messages, and then the ledger keeps its entries).
  const ledger = createLedger(
    store,
    retentionOn(options.retention)
      ? (options.retention.processedMs ?? (stream.maxAgeMs > 0 ? stream.maxAgeMs : undefined))
      : undefined,
  )
  const definitions = definitionRegistry(name)
  const entities = entityRegistry(name)
  let state: 'created' | 'started' | 'stopping' | 'stopped' = 'created'
  const publisher = createPublisher({
    service: name,
    outbox,
    definitions,
    isStopped: () => state === 'stopped',
    ...(tracing ? { tracing: { tracer: tracing, subjectPrefix: stream.subjectPrefix } } : {}),
  })
  const operationRecords = operationRecorder(store, expireWithoutArchive?.operationsMs)
  const changes = {
    store,
    outbox,
    claim: positionClaimer(store),
    service: name,
    logger,
    validate: publisher.validate,
    onStep: options.onChangeStep,
    ...(tracing ? { tracing: { tracer: tracing, subjectPrefix: stream.subjectPrefix } } : {}),
  }

  const alertsOn = Boolean(options.alerts.slackWebhookUrl)
  const parked = parkAlerts(
    options.alerts.slackWebhookUrl,
    options.alerts.windowMs ?? serviceDefaults.alertWindowMs,
    logger,
  )
  const park: ConsumerGroupContext['park'] = async (letter, cause) => {
    await parkDeadLetter(js, signer, stream.subjectPrefix, letter)
    parked.parked(letter, cause)
  }
  const groups: { context: ConsumerGroupContext; concurrency: number }[] = []
  let running: RunningConsumerGroup[] = []
  let startedUp = false
  const natsState = watchNatsState(connections.nc)
  const pingMongo = cachedMongoPing(store.db)
  // One S3 client for the archiver and for replays.
  const archive = options.archive && { ...options.archive, s3: s3Client(options.archive.s3) }
  const { streams, writer: streamWriter } = eventStreams({
    store,
    outbox,
    service: name,
    validate: publisher.validate,
    onStep: options.onChangeStep,
    types: streamTypeRegistry(name, definitions),
    ...(archive ? { archive } : {}),
    ...(tracing ? { tracing: { tracer: tracing, subjectPrefix: stream.subjectPrefix } } : {}),
    logger,
  })

  /** What runs between start() and stop(), in start order; stop() walks it backwards. */
  const parts = async (): Promise<Part[]> => {
    // First, so a retention setting the server cannot honour stops the start before any work.
    const remover = await chooseRemover(store, options.retention)
    logger.info({ remover }, retentionMessage(remover, Boolean(archive)))
    return [
      // Stops after the buffers: the counts of what they flushed are written too.
      ...(flow ? [startedBy('flow recorder', () => flow.start())] : []),
      // Last to stop but the flow: what handlers and the relay left in flight is flushed.
      onStop('buffers', async () => {
        await outbox.drain()
        await ledger.drain()
        await parked.stop()
      }),
      {
        name: 'consumer groups',
        async start() {
          running = await Promise.all(
            groups.map(({ context, concurrency }) =>
              startConsumerGroup({
                jsm,
                js,
                stream: stream.name,
                concurrency,
                partitions: connections.partitions,
                context,
              }),
            ),
          )
        },
        async stop() {
          const unfinished = await Promise.all(
            running.map((group) => group.stop(options.drainTimeoutMs)),
          )
          const left = unfinished.reduce((a, b) => a + b, 0)
          if (left > 0)
            logger.warn(
              { left },
              'handlers still running after the drain timeout: JetStream redelivers them',
            )
        },
      },
      startedBy('relay', () =>
        startRelay({
          store,
          outbox,
          ...options.relay,
          settleChanges: changeSettler({
            store,
            outbox,
            service: name,
            entities,
            minAgeMs: options.relay.minAgeMs,
            logger,
          }),
          logger,
        }),
      ),
      startedBy('alerts', () => startDlqAlerts(store, options.alerts, logger)),
      startedBy('operation sweeper', () =>
        startAbandonedOperationSweeper({
          store,
          recorder: operationRecords,
          operations: options.operations,
          logger,
        }),
      ),
      startedBy('parked mover', () =>
        startParkedMover({
          js,
          jsm,
          store,
          stream,
          signer,
          retry,
          alertsOn,
          isProcessed: (key) => ledger.isProcessed(key),
          logger,
        }),
      ),
      ...(archive
        ? [
            startedBy('archiver', () => {
              logger.info(
                { bucket: archive.bucket, prefix: archive.prefix ?? '' },
                'archiving events, operations and failure records to S3',
              )
              return startArchiver({ store, archive, keep: options.retention, logger })
            }),
          ]
        : []),
      ...(remover === 'sweeper'
        ? [
            startedBy('retention sweeper', () =>
              startSweeper({
                store,
                archiving: Boolean(archive),
                retention: options.retention!,
                logger,
              }),
            ),
          ]
        : []),
    ]
  }
  let stopParts: (() => Promise<void>) | undefined
  let forgetSignals: (() => void) | undefined

  const lifecycle = (): ServiceLifecycle => {
    if (state === 'created') return 'not started'
    if (state === 'started') return startedUp ? 'running' : 'starting'
    return state === 'stopping' ? 'draining' : 'stopped'
  }
  const groupStates = (): Record<string, ConsumerGroupState> =>
    Object.fromEntries(
      groups.map(({ context: { consumerGroup } }) => [
        consumerGroup,
        running.find((group) => group.consumerGroup === consumerGroup)?.state() ??
          (state === 'created' ? 'not started' : 'starting'),
      ]),
    )

  const service: Service = {
    name,
    ...storeTools({ store, js, jsm, stream, signer, archive, tracing }),
    streamDifferences: connections.streamDifferences,
    entityState: (entityOptions) => entities.define(entityOptions),
    streams,
    startOperation: operationStarter({
      recorder: operationRecords,
      service: name,
      publisher,
      changes,
      streamWriter,
      operations: options.operations,
      expireAfterMs: expireWithoutArchive?.operationsMs,
      logger,
      tracing,
    }),

    on(definition, handlerOptions, handler) {
      if (state !== 'created')
        throw new ConfigurationError(`${name}: register handlers before start()`)
      const handlerName = handlerOptions?.handler
      if (!handlerName || !handlerNamePattern.test(handlerName)) {
        throw new ConfigurationError(
          `${name}: every handler needs a name (camelCase letters and digits), got ${JSON.stringify(handlerName)}`,
        )
      }
      definitions.check(definition)
      if (groups.some((g) => g.context.handlerName === handlerName)) {
        throw new ConfigurationError(`${name}: handler name "${handlerName}" is used twice`)
      }
      // One event per partition at a time, when the event is keyed and the stream partitioned.
      const ordered =
        'key' in definition &&
        (handlerOptions.ordered ?? true) &&
        connections.partitions !== undefined
      groups.push({
        // An ordered group's instance pulls one event of every partition: a slot for each, so
        // none waits here holding its partition while another instance is free.
        concurrency:
          handlerOptions.concurrency ??
          (ordered ? connections.partitions! : serviceDefaults.handlerConcurrency),
        context: {
          service: name,
          handlerName,
          consumerGroup: consumerGroupName(name, handlerName),
          definition,
          ordered,
          handler: handler as EventHandler<unknown>,
          settings: {
            timeoutMs: handlerOptions.timeoutMs ?? ackWaitMs,
            ackWaitMs,
            retry,
            subjectPrefix: stream.subjectPrefix,
            duplicateWindowMs: stream.duplicateWindowMs,
          },
          store,
          alertsOn,
          park,
          ledger,
          signer,
          logger,
          publisher,
          streamWriter,
          metrics,
          tracing,
        },
      })
    },

    async start() {
      if (state !== 'created') throw new ConfigurationError(`${name}: start() was called already`)
      state = 'started'
      stopParts = await startParts(await parts(), logger)
      startedUp = true
      if (options.stopOnSignals) forgetSignals = stopOnSignals(service)
      logger.info(
        { consumerGroups: groups.map((g) => g.context.consumerGroup) },
        `service ${name} started`,
      )
    },

    async stop() {
      if (state === 'stopping' || state === 'stopped') return
      state = 'stopping'
      forgetSignals?.()
      await stopParts?.()
      state = 'stopped'
      await connections.close()
      natsState.stop()
      logger.info(`service ${name} stopped`)
    },

    async health() {
      const now = lifecycle()
      return judgeHealth({
        name,
        lifecycle: now,
        nats: natsState.state(),
        // A closed client would reconnect to answer a ping: a stopped service asks nothing.
        mongodb:
          now === 'stopped'
            ? { state: 'not checked', reason: 'the service is stopped' }
            : await pingMongo(),
        consumerGroups: groupStates(),
      })
    },
  }
  return service
}
