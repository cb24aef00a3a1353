import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { MongoClient } from 'mongodb'
import { pino, type Logger } from 'pino'
import { startConsumerGroup, type RunningConsumerGroup } from './consume/consumer-group.ts'
import type { ConsumerGroupContext } from './consume/delivery.ts'
import type { EventHandler, HandlerOptions } from './consume/handler.ts'
import { createLedger } from './consume/ledger.ts'
import {
  parkAlerts,
  parkDeadLetter,
  provisionParkedStream,
  startParkedMover,
} from './consume/park.ts'
import { loadSigningSecret, messageSigner } from './publish/signature.ts'
import { defaultRetryPolicy, type RetryPolicy } from './consume/retry.ts'
import { startDlqAlerts, type AlertOptions } from './alert/dlq-alerts.ts'
import { s3Client, startArchiver, type ArchiveOptions } from './archive/archiver.ts'
import {
  replayEvents,
  selectEvents,
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
  type RetentionOptions,
} from './retention/retention.ts'
import { dlqManager, type DlqManager } from './dlq/manage.ts'
import { ConfigurationError, OperationIdError, ServiceStoppedError } from './errors.ts'
import { validateEventData, type EventDefinition } from './event-definition.ts'
import { newId } from './ids.ts'
import {
  checkOperationId,
  defaultOperationOptions,
  endOperation,
  startAbandonedOperationSweeper,
  type Operation,
  type OperationOptions,
  type StartOperationInput,
} from './operation.ts'
import { isDuplicateKey } from './store/insert-new.ts'
import { createOutbox } from './publish/outbox.ts'
import { makeChange } from './state/change.ts'
import {
  entityRegistry,
  type ChangeStep,
  type EntityState,
  type EntityStateOptions,
  type StateChange,
} from './state/entity-state.ts'
import { changeSettler } from './state/settle.ts'
import { startRelay } from './publish/relay.ts'
import { stopOnSignals } from './shutdown-signals.ts'
import { definitionRegistry } from './version/registry.ts'
import { connectToNats, isNatsConnection, type NatsTarget } from './nats-connection.ts'
import {
  ensureIndexes,
  eventStore,
  type EventRecord,
  type EventStore,
} from './store/event-store.ts'
import {
  defaultStreamOptions,
  provisionStream,
  type StreamDifference,
  type StreamOptions,
} from './streams.ts'

export interface ServiceOptions {
  /** The service's name: lowercase letters, digits and dashes. Instances with one name share work. */
  name: string
  /**
   * A NATS URL, connection settings (credentials, TLS: `NatsOptions`), or an open connection
   * (which `stop()` leaves open).
   */
  nats: NatsTarget
  /** A MongoDB URL, or a connected client (which `stop()` leaves open). */
  mongodb: string | MongoClient
  /** The event store's database, shared by every service of the system. Default `event_driven`. */
  database?: string
  stream?: StreamOptions
  /** Default: 5 failures, then the DLQ; backoff from 1 s doubling to 60 s. */
  retry?: Partial<RetryPolicy>
  /** How long JetStream waits for an ack before redelivering. Default 30 s. */
  ackWaitMs?: number
  /** How long `publish` waits for MongoDB or NATS before rejecting. Default 5 s. */
  publishTimeoutMs?: number
  /** The relay republishes events left in the outbox. Default: every 5 s, events older than 10 s. */
  relay?: { intervalMs?: number; minAgeMs?: number }
  /** Slack alerts for DLQ entries. Default: on when `SLACK_WEBHOOK_URL` is set. */
  alerts?: AlertOptions
  /** Copy events, operations and failure records to S3 in the background. Default off. */
  archive?: ArchiveOptions
  /** Remove old events and operations from MongoDB (only once archived, when archiving is on). */
  retention?: RetentionOptions
  /**
   * The secret every service of the system signs its messages with (at least 32 bytes); consumer
   * groups refuse messages it did not sign. Default: `EVENT_SIGNING_KEY`, else a random secret
   * the first service stores in the event store and every other service reads from there.
   */
  signingKey?: string
  /** Operations left `started` past their deadline are ended as abandoned. Default: 5 min, checked every 30 s. */
  operations?: OperationOptions
  /** How long `stop()` waits for in-flight handlers. Default 30 s. */
  drainTimeoutMs?: number
  /**
   * Called after each step of a state change (`Operation.change`), before the next one: to
   * trace changes, or to stop a process at a chosen step in a fault test.
   */
  onChangeStep?: (step: ChangeStep, change: StateChange<unknown>) => void | Promise<void>
  logger?: Logger
  /** Stop (drain) on SIGTERM and SIGINT, then exit. Default true. */
  stopOnSignals?: boolean
}

export interface ConsumerGroupInfo {
  durable: string
  filterSubjects: string[]
  pending: number
  inFlight: number
  redelivered: number
  lastActive: string | null
}

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
  /** Records an operation and returns it, to publish its events. Works before `start()`. */
  startOperation(input: StartOperationInput): Promise<Operation>
  /** Stops pulling, drains in-flight handlers, acks what finished, closes what it opened. */
  stop(): Promise<void>
}

const serviceNamePattern = /^[a-z][a-z0-9-]*$/
const handlerNamePattern = /^[a-z][a-zA-Z0-9]*$/

/**
 * Connects to NATS and MongoDB, provisions the stream and the event store's indexes, and returns
 * a service to register handlers on and start operations from.
 */
export async function createService(options: ServiceOptions): Promise<Service> {
  if (!serviceNamePattern.test(options.name)) {
    throw new ConfigurationError(
      `service name "${options.name}" must be lowercase letters, digits and dashes`,
    )
  }
  const stream = { ...defaultStreamOptions, ...options.stream }
  const retry = { ...defaultRetryPolicy, ...options.retry }
  const ackWaitMs = options.ackWaitMs ?? 30_000
  const operations = { ...defaultOperationOptions, ...options.operations }
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000
  const logger = options.logger ?? pino({ name: options.name })

  const ownsMongo = typeof options.mongodb === 'string'
  const mongo =
    typeof options.mongodb === 'string'
      ? await new MongoClient(options.mongodb, {
          serverSelectionTimeoutMS: publishTimeoutMs,
        }).connect()
      : options.mongodb
  const ownsNats = !isNatsConnection(options.nats)
  // A service that cannot start closes what it opened, so a caller that retries leaks nothing.
  const closeOwned = async () => {
    if (ownsNats && nc) await nc.close().catch(() => {})
    if (ownsMongo) await mongo.close().catch(() => {})
  }
  let nc: NatsConnection | undefined
  const prepare = async (connection: NatsConnection) => {
    const store = eventStore(mongo.db(options.database ?? 'event_driven'))
    const jsm: JetStreamManager = await jetstreamManager(connection)
    const { created, differences } = await provisionStream(jsm, stream)
    if (differences.length > 0) {
      logger.warn(
        { stream: stream.name, differences },
        'the existing stream differs from the configuration; it was left unchanged',
      )
    } else if (created) logger.info({ stream: stream.name }, 'created stream')
    await provisionParkedStream(jsm, stream)
    await ensureIndexes(store)
    const signer = messageSigner(
      await loadSigningSecret(store, options.signingKey ?? process.env.EVENT_SIGNING_KEY),
    )
    return { store, jsm, signer, differences }
  }
  let prepared: Awaited<ReturnType<typeof prepare>>
  try {
    nc = isNatsConnection(options.nats)
      ? options.nats
      : await connectToNats(options.nats, options.name)
    prepared = await prepare(nc)
  } catch (error) {
    await closeOwned()
    throw error
  }
  const { store, jsm, signer, differences } = prepared
  const js = jetstream(nc)

  // Without archiving, retention counts from publishing (events) and the end (operations).
  const expireWithoutArchive = options.archive ? undefined : options.retention
  const outbox = createOutbox({
    store,
    js,
    signer,
    subjectPrefix: stream.subjectPrefix,
    publishTimeoutMs,
    logger,
    expireAfterMs: expireWithoutArchive?.eventsMs,
  })
  // With retention on, a ledger entry stays as long as JetStream can redeliver its event (a
  // stream without a max age keeps its messages, and then the ledger keeps its entries).
  const ledger = createLedger(
    store,
    retentionOn(options.retention)
      ? (options.retention.processedMs ?? (stream.maxAgeMs > 0 ? stream.maxAgeMs : undefined))
      : undefined,
  )
  const alerts: AlertOptions = { slackWebhookUrl: process.env.SLACK_WEBHOOK_URL, ...options.alerts }
  const definitions = definitionRegistry(options.name)
  const entities = entityRegistry(options.name)
  const registrations: { context: ConsumerGroupContext; concurrency: number }[] = []
  let running: RunningConsumerGroup[] = []
  let stopRelay: (() => Promise<void>) | undefined
  let stopAlerts: (() => Promise<void>) | undefined
  let stopArchiver: (() => Promise<void>) | undefined
  let stopSweeper: (() => Promise<void>) | undefined
  let stopParkedMover: (() => Promise<void>) | undefined
  let stopOperationSweeper: (() => Promise<void>) | undefined
  const parked = parkAlerts(alerts.slackWebhookUrl, alerts.windowMs ?? 10_000, logger)
  const park: ConsumerGroupContext['park'] = async (letter, cause) => {
    await parkDeadLetter(js, signer, stream.subjectPrefix, letter)
    parked.parked(letter, cause)
  }
  let forgetSignals: (() => void) | undefined
  let state: 'created' | 'started' | 'stopping' | 'stopped' = 'created'

  const validate = async (definition: EventDefinition<string, unknown>, data: unknown) => {
    if (state === 'stopped')
      throw new ServiceStoppedError(`service ${options.name} is stopped: nothing was published`)
    definitions.check(definition)
    return validateEventData(definition, data)
  }
  const changes = {
    store,
    outbox,
    service: options.name,
    logger,
    validate,
    onStep: options.onChangeStep,
  }

  const record = async (
    definition: EventDefinition<string, unknown>,
    data: unknown,
    ids: Pick<EventRecord, '_id' | 'operationId' | 'parentId' | 'publishedBy' | 'redelivery'>,
  ): Promise<string> => {
    const valid = await validate(definition, data)
    await outbox.publish({
      ...ids,
      subject: definition.subject,
      version: definition.version,
      data: valid,
      createdAt: new Date(),
    })
    return ids._id
  }

  const publishChild: ConsumerGroupContext['publishChild'] = (child, definition, data) =>
    record(definition, data, {
      _id: child.id,
      operationId: child.parent.operationId,
      parentId: child.parent.id,
      publishedBy: { service: options.name, consumerGroup: child.consumerGroup },
      // A retried, redriven or replayed handler may be re-emitting this child (same id) after
      // JetStream's duplicate window: groups that handled it already skip it by their ledger.
      ...(child.attempt > 1 || child.parent.redelivery ? { redelivery: 'retry' as const } : {}),
    })

  // One S3 client for the archiver and for replays.
  const archive = options.archive && { ...options.archive, s3: s3Client(options.archive.s3) }
  const replayDependencies = { store, js, jsm, stream, signer, archive }

  const service: Service = {
    name: options.name,
    store,
    dlq: dlqManager(store, js, stream.subjectPrefix, signer),
    stream: { name: stream.name, subjectPrefix: stream.subjectPrefix },
    streamDifferences: differences,

    async consumerGroups() {
      const groups: ConsumerGroupInfo[] = []
      for await (const info of jsm.consumers.list(stream.name)) {
        groups.push({
          durable: info.name,
          filterSubjects:
            info.config.filter_subjects ??
            (info.config.filter_subject ? [info.config.filter_subject] : []),
          pending: info.num_pending,
          inFlight: info.num_ack_pending,
          redelivered: info.num_redelivered,
          // The server sends a timestamp; the client's type says nanos: keep whichever came, as text.
          lastActive: info.delivered.last_active ? String(info.delivered.last_active) : null,
        })
      }
      return groups
    },

    replay: (replayOptions) => replayEvents(replayDependencies, replayOptions),
    readEvents: (select, from) => selectEvents(replayDependencies, select, from),

    on(definition, handlerOptions, handler) {
      if (state !== 'created')
        throw new ConfigurationError(`${options.name}: register handlers before start()`)
      const handlerName = handlerOptions?.handler
      if (!handlerName || !handlerNamePattern.test(handlerName)) {
        throw new ConfigurationError(
          `${options.name}: every handler needs a name (camelCase letters and digits), got ${JSON.stringify(handlerName)}`,
        )
      }
      definitions.check(definition)
      const consumerGroup = `${options.name}.${handlerName}`
      if (registrations.some((r) => r.context.handlerName === handlerName)) {
        throw new ConfigurationError(`${options.name}: handler name "${handlerName}" is used twice`)
      }
      registrations.push({
        concurrency: handlerOptions.concurrency ?? 8,
        context: {
          service: options.name,
          alertsOn: Boolean(alerts.slackWebhookUrl),
          handlerName,
          consumerGroup,
          definition: definition,
          handler: handler as EventHandler<unknown>,
          timeoutMs: handlerOptions.timeoutMs ?? ackWaitMs,
          ackWaitMs,
          retry,
          subjectPrefix: stream.subjectPrefix,
          duplicateWindowMs: stream.duplicateWindowMs,
          store,
          ledger,
          signer,
          park,
          logger,
          publishChild,
        },
      })
    },

    async start() {
      if (state !== 'created')
        throw new ConfigurationError(`${options.name}: start() was called already`)
      state = 'started'
      // First, so a retention setting the server cannot honour stops the start before any work.
      const remover = await chooseRemover(store, options.retention)
      logger.info({ remover }, retentionMessage(remover, Boolean(archive)))
      const relayMinAgeMs = options.relay?.minAgeMs ?? 10_000
      running = await Promise.all(
        registrations.map(({ context, concurrency }) =>
          startConsumerGroup({ jsm, js, stream: stream.name, concurrency, context }),
        ),
      )
      stopRelay = startRelay({
        store,
        outbox,
        intervalMs: options.relay?.intervalMs ?? 5_000,
        minAgeMs: relayMinAgeMs,
        settleChanges: changeSettler({
          store,
          outbox,
          service: options.name,
          entities,
          minAgeMs: relayMinAgeMs,
          logger,
        }),
        logger,
      })
      stopAlerts = startDlqAlerts(store, alerts, logger)
      stopOperationSweeper = startAbandonedOperationSweeper({
        store,
        operations,
        expireAfterMs: expireWithoutArchive?.operationsMs,
        logger,
      })
      stopParkedMover = await startParkedMover({
        js,
        jsm,
        store,
        stream,
        signer,
        retry,
        alertsOn: Boolean(alerts.slackWebhookUrl),
        isProcessed: (key) => ledger.isProcessed(key),
        logger,
      })
      if (archive) {
        stopArchiver = startArchiver({ store, archive, keep: options.retention, logger })
        logger.info(
          { bucket: archive.bucket, prefix: archive.prefix ?? '' },
          'archiving events, operations and failure records to S3',
        )
      }
      if (remover === 'sweeper') {
        stopSweeper = startSweeper({
          store,
          archiving: Boolean(archive),
          retention: options.retention!,
          logger,
        })
      }
      if (options.stopOnSignals ?? true) forgetSignals = stopOnSignals(service)
      logger.info(
        { consumerGroups: running.map((r) => r.consumerGroup) },
        `service ${options.name} started`,
      )
    },

    entityState: (entityOptions) => entities.define(entityOptions),

    async startOperation({ name, input, actor, id = newId(), deadlineMs }) {
      checkOperationId(id)
      const startedAt = new Date()
      const keepMs = expireWithoutArchive?.operationsMs
      try {
        await store.operations.insertOne({
          _id: id,
          name,
          input: input ?? null,
          actor: actor ?? null,
          status: 'started',
          service: options.name,
          startedAt,
          deadlineAt: new Date(startedAt.getTime() + (deadlineMs ?? operations.deadlineMs)),
          ...(keepMs === undefined ? {} : { expireAt: new Date(startedAt.getTime() + keepMs) }),
        })
      } catch (error) {
        if (isDuplicateKey(error))
          throw new OperationIdError(`operation ${id} is recorded already: an id names one command`)
        throw error
      }
      const end = async (status: 'completed' | 'failed', error?: string | Error) => {
        const recorded = await endOperation(store, id, { status, error }, keepMs)
        if (!recorded)
          logger.warn(
            { operationId: id, status },
            'the operation had ended already (past its deadline, as abandoned): this end is not recorded',
          )
        return recorded
      }
      return {
        id,
        name,
        publish: (definition, data) =>
          record(definition, data, {
            _id: newId(),
            operationId: id,
            parentId: id,
            publishedBy: { service: options.name },
          }),
        change: (entity, changeInput) => makeChange(changes, id, entity, changeInput),
        complete: () => end('completed'),
        fail: (reason) => end('failed', reason),
      }
    },

    async stop() {
      if (state === 'stopping' || state === 'stopped') return
      state = 'stopping'
      forgetSignals?.()
      await stopRelay?.()
      await stopAlerts?.()
      await stopArchiver?.()
      await stopSweeper?.()
      await stopParkedMover?.()
      await stopOperationSweeper?.()
      const drainTimeoutMs = options.drainTimeoutMs ?? 30_000
      const unfinished = await Promise.all(running.map((group) => group.stop(drainTimeoutMs)))
      const left = unfinished.reduce((a, b) => a + b, 0)
      if (left > 0)
        logger.warn(
          { left },
          'handlers still running after the drain timeout: JetStream redelivers them',
        )
      await outbox.drain()
      await ledger.drain()
      await parked.stop()
      state = 'stopped'
      // drain() flushes the last acks; with NATS unreachable it cannot, and close() is all there is.
      if (ownsNats) await nc.drain().catch(() => nc.close())
      if (typeof options.mongodb === 'string') await mongo.close()
      logger.info(`service ${options.name} stopped`)
    },
  }
  return service
}
