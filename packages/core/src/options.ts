import type { Logger } from 'pino'
import type { AlertOptions } from './alert/dlq-alerts.ts'
import type { ArchiveOptions } from './archive/archiver.ts'
import { defaultRetryPolicy, type RetryPolicy } from './consume/retry.ts'
import { ConfigurationError } from './errors.ts'
import { serviceNamePattern } from './names.ts'
import type { NatsTarget } from './nats-connection.ts'
import type { ServiceMetrics } from './observe/metrics.ts'
import { flowDefaults, type FlowOptions } from './observe/flow/recorder.ts'
import type { ServiceTracing } from './observe/tracing.ts'
import { defaultOperationOptions, type OperationOptions } from './operation.ts'
import type { RetentionOptions } from './retention/retention.ts'
import type { ChangeStep, StateChange } from './state/entity-state.ts'
import { defaultStreamOptions, type ResolvedStreamOptions, type StreamOptions } from './streams.ts'
import type { MongoClient } from 'mongodb'
import { currentFormat, previousFormat, type WritableFormat } from './version/formats.ts'
import { s3Sdk, slackSdk } from './optional-peers.ts'

/**
 * Every default of a service in one place. The service kit, the CLI and the blog read these
 * instead of typing the values again.
 */
export const serviceDefaults = Object.freeze({
  database: 'event_driven',
  stream: defaultStreamOptions,
  retry: defaultRetryPolicy,
  ackWaitMs: 30_000,
  publishTimeoutMs: 5_000,
  relay: Object.freeze({ intervalMs: 5_000, minAgeMs: 10_000 }),
  operations: defaultOperationOptions,
  drainTimeoutMs: 30_000,
  handlerConcurrency: 8,
  alertWindowMs: 10_000,
  stopOnSignals: false,
  messageFormat: currentFormat,
  flow: flowDefaults,
})

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
  /**
   * The event store's database, shared by every service of the system.
   * @default 'event_driven'
   */
  database?: string
  /** @default name `EVENTS`, subjects `events.>`, 7 days, 2 min duplicate window, 1 replica */
  stream?: StreamOptions
  /** @default 5 failures, then the DLQ; backoff from 1 s doubling to 60 s */
  retry?: Partial<RetryPolicy>
  /**
   * How long JetStream waits for an ack before redelivering.
   * @default 30_000
   */
  ackWaitMs?: number
  /**
   * How long `publish` waits for MongoDB or NATS before rejecting.
   * @default 5_000
   */
  publishTimeoutMs?: number
  /**
   * The relay republishes events left in the outbox and finishes unfinished state changes.
   * @default every 5 s, events older than 10 s
   */
  relay?: { intervalMs?: number; minAgeMs?: number }
  /** Slack alerts for DLQ entries. @default on when `SLACK_WEBHOOK_URL` is set */
  alerts?: AlertOptions
  /** Copy events, operations and failure records to S3 in the background. @default off */
  archive?: ArchiveOptions
  /** Remove old events and operations from MongoDB (only once archived, when archiving is on). @default off */
  retention?: RetentionOptions
  /**
   * The secret every service of the system signs its messages with (at least 32 bytes); consumer
   * groups refuse messages it did not sign.
   * @default `EVENT_SIGNING_KEY`, else a random secret the first service stores in the event store
   */
  signingKey?: string
  /**
   * Operations left `started` past their deadline are ended as abandoned.
   * @default 5 min deadline, checked every 30 s
   */
  operations?: OperationOptions
  /**
   * How long `stop()` waits for in-flight handlers.
   * @default 30_000
   */
  drainTimeoutMs?: number
  /**
   * Called after each step of a state change (`Operation.change`), before the next one: to
   * trace changes, or to stop a process at a chosen step in a fault test.
   */
  onChangeStep?: (step: ChangeStep, change: StateChange<unknown>) => void | Promise<void>
  /** @default a pino logger named after the service */
  logger?: Logger
  /**
   * Stop (drain) on SIGTERM and SIGINT, then exit the process. A library should not own the
   * process: turn it on in a program's entry point, or stop services yourself.
   * @default false
   */
  stopOnSignals?: boolean
  /**
   * The format of the messages this instance publishes. During a rolling deploy to a version
   * whose format the running version cannot read, set the previous format on the new instances
   * until no old one runs (docs/upgrading.md). Readers always take both.
   * @default currentFormat
   */
  messageFormat?: WritableFormat
  /**
   * Where the service reports handler runs, settled deliveries and published events:
   * `prometheusMetrics()` (one per process, shared by its services), or an observer of your own.
   * @default off: nothing is measured, nothing is allocated for it
   */
  metrics?: ServiceMetrics
  /**
   * Where the service starts its spans: `openTelemetryTracing()` (spans go to the tracer provider
   * your OpenTelemetry SDK registers), or a tracer of your own. Operations and events store their
   * trace context either way it is set, so chains that continue later stay in one trace
   * (docs/observability.md).
   * @default off: no span is started; a trace context a message carries is still passed on
   */
  tracing?: ServiceTracing
  /**
   * The flow of each subject, for the dashboard: per minute and per hour and edge (publisher →
   * subject → consumer group → the subjects it emits), how many, how many failed, and how long
   * each step took, counted in memory; the periods that ended are written to `flow_stats` every
   * interval (docs/dashboard.md). `false` turns it off: nothing is counted or written.
   * @default on: written every 10 s; minutes kept 2 hours, hours 2 days
   */
  flow?: FlowOptions | false
}

/** Options with every default filled in. */
export interface ResolvedServiceOptions {
  name: string
  nats: NatsTarget
  mongodb: string | MongoClient
  database: string
  stream: ResolvedStreamOptions
  retry: RetryPolicy
  ackWaitMs: number
  publishTimeoutMs: number
  relay: { intervalMs: number; minAgeMs: number }
  alerts: AlertOptions
  archive?: ArchiveOptions
  retention?: RetentionOptions
  signingKey?: string
  operations: Required<OperationOptions>
  drainTimeoutMs: number
  onChangeStep?: ServiceOptions['onChangeStep']
  logger?: Logger
  stopOnSignals: boolean
  messageFormat: WritableFormat
  metrics?: ServiceMetrics
  tracing?: ServiceTracing
  flow: Required<FlowOptions> | false
}

/**
 * Fills every default and checks every option, reporting all problems at once in one
 * ConfigurationError (a wrong option fails at start, never at the first event).
 */
export function resolveServiceOptions(
  options: ServiceOptions,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedServiceOptions {
  const resolved: ResolvedServiceOptions = {
    ...options,
    database: options.database ?? serviceDefaults.database,
    stream: { ...serviceDefaults.stream, ...options.stream },
    retry: { ...serviceDefaults.retry, ...options.retry },
    ackWaitMs: options.ackWaitMs ?? serviceDefaults.ackWaitMs,
    publishTimeoutMs: options.publishTimeoutMs ?? serviceDefaults.publishTimeoutMs,
    relay: { ...serviceDefaults.relay, ...options.relay },
    alerts: { slackWebhookUrl: env.SLACK_WEBHOOK_URL, ...options.alerts },
    operations: { ...serviceDefaults.operations, ...options.operations },
    drainTimeoutMs: options.drainTimeoutMs ?? serviceDefaults.drainTimeoutMs,
    signingKey: options.signingKey ?? env.EVENT_SIGNING_KEY,
    stopOnSignals: options.stopOnSignals ?? serviceDefaults.stopOnSignals,
    messageFormat: options.messageFormat ?? serviceDefaults.messageFormat,
    flow: options.flow === false ? false : { ...serviceDefaults.flow, ...options.flow },
  }
  const problems: string[] = []
  if (!serviceNamePattern.test(options.name))
    problems.push(`service name "${options.name}" must be lowercase letters, digits and dashes`)
  const positive = (label: string, value: number) => {
    if (!Number.isFinite(value) || value <= 0)
      problems.push(`${label} must be a number above 0, got ${String(value)}`)
  }
  positive('ackWaitMs', resolved.ackWaitMs)
  positive('publishTimeoutMs', resolved.publishTimeoutMs)
  positive('relay.intervalMs', resolved.relay.intervalMs)
  positive('relay.minAgeMs', resolved.relay.minAgeMs)
  positive('operations.deadlineMs', resolved.operations.deadlineMs)
  positive('operations.sweepIntervalMs', resolved.operations.sweepIntervalMs)
  positive('drainTimeoutMs', resolved.drainTimeoutMs)
  positive('retry.baseDelayMs', resolved.retry.baseDelayMs)
  positive('retry.maxDelayMs', resolved.retry.maxDelayMs)
  if (resolved.flow) {
    positive('flow.flushIntervalMs', resolved.flow.flushIntervalMs)
    positive('flow.keepMs', resolved.flow.keepMs)
  }
  if (!Number.isInteger(resolved.retry.maxFailures) || resolved.retry.maxFailures < 1)
    problems.push(
      `retry.maxFailures must be a whole number of 1 or more, got ${String(resolved.retry.maxFailures)}`,
    )
  const { partitions } = resolved.stream
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024)
    problems.push(
      `stream.partitions must be a whole number from 1 to 1024, got ${String(partitions)}`,
    )
  const writable: unknown[] = [currentFormat, previousFormat]
  if (!writable.includes(resolved.messageFormat))
    problems.push(
      `messageFormat must be ${writable.join(' (current) or ')} (previous), got ${String(options.messageFormat)}`,
    )
  // A feature turned on whose optional peer is not installed: said before anything connects.
  const needs = (load: () => unknown) => {
    try {
      load()
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error
      problems.push(error.message)
    }
  }
  if (
    options.metrics &&
    (['handlerRan', 'delivered', 'published'] as const).some(
      (method) => typeof options.metrics?.[method] !== 'function',
    )
  )
    problems.push(
      'metrics must be an observer with handlerRan, delivered and published (e.g. prometheusMetrics())',
    )
  if (options.tracing && typeof options.tracing.start !== 'function')
    problems.push('tracing must be a tracer with start (e.g. openTelemetryTracing())')
  if (resolved.alerts.slackWebhookUrl) needs(slackSdk)
  if (options.archive) needs(s3Sdk)
  if (problems.length > 0)
    throw new ConfigurationError(
      `${options.name}: ${problems.length === 1 ? problems[0] : `${problems.length} problems: ${problems.join('; ')}`}`,
    )
  return resolved
}
