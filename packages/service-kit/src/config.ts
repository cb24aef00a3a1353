import {
  archiveOptionsFromEnv,
  ConfigurationError,
  natsOptionsFromEnv,
  serviceDefaults,
  type ArchiveOptions,
  type NatsOptions,
  type OperationOptions,
  type RetentionOptions,
  type ServiceMetrics,
  type ServiceTracing,
} from '@event-driven/core'
import { defaultRpcTimeoutMs } from './rpc.ts'
import { gatewayLimitsFromEnv, type GatewayLimits } from './gateway-limits.ts'
import { webhookSecretsFromEnv } from './webhook-secrets.ts'

/** Everything a process of a service (or the gateway) reads from its environment. */
export interface ServiceConfig {
  /** `NATS_URL` and, when the server asks, credentials and TLS (see `natsOptionsFromEnv`). */
  nats: NatsOptions
  mongodbUrl: string
  /** Prefix of every database name (`<prefix>users`, …, `<prefix>event_driven`). Default empty. */
  databasePrefix: string
  /**
   * The JetStream stream, its subject prefix, its replicas and its partitions of keyed events
   * (`EVENTS_STREAM`, `EVENTS_SUBJECT_PREFIX`, `EVENTS_STREAM_REPLICAS`,
   * `EVENTS_STREAM_PARTITIONS`). Default `EVENTS`, `events`, 1, 16; on a three-node cluster, 3
   * replicas (docs/production.md, docs/ordering.md).
   */
  stream: { name: string; subjectPrefix: string; replicas?: number; partitions?: number }
  /** Prefix of request-reply subjects between the gateway and services. Default `rpc`. */
  rpcPrefix: string
  /** How long the gateway waits for a service's answer (`RPC_TIMEOUT_MS`). Default 10 s. */
  rpcTimeoutMs: number
  /**
   * `EVENT_SIGNING_KEY`: the system's signing secret (events, and requests between the gateway
   * and services). Default: the random one stored in the event store.
   */
  signingKey?: string
  /** HMAC secret for login tokens. */
  authSecret: string
  /** AUTH_SECRET was not set: tokens are signed with a secret everyone can read. */
  authSecretIsDevelopmentDefault: boolean
  /**
   * `GATEWAY_MAX_*`: what one GraphQL request may ask of the gateway (aliases, depth, cost,
   * tokens, directives, mutations, body bytes). Unset ones keep `defaultGatewayLimits`.
   */
  gatewayLimits?: Partial<GatewayLimits>
  /**
   * `WEBHOOK_SECRET_<NAME>`: the `whsec_…` secret each webhook's sender signs with, by webhook
   * name (`WEBHOOK_SECRET_PAYMENT_RECEIVED` is webhook `payment-received`).
   */
  webhookSecrets?: Record<string, string>
  /**
   * `NODE_ENV` is `development` or `test`: a webhook without a secret gets a public development
   * one (with a warning) instead of stopping the gateway's start.
   */
  development?: boolean
  /** Where the gateway listens. Default 127.0.0.1; 0.0.0.0 in a container. */
  host: string
  port: number
  /** First retry delay of failed handlers (doubling up to 60 s). Default 1 s. */
  retryBaseDelayMs: number
  /** The S3 archive (`ARCHIVE_BUCKET`, `S3_URL`, …: see `archiveOptionsFromEnv`). Default off. */
  archive?: ArchiveOptions
  /** `RETENTION_EVENTS_DAYS`, `RETENTION_OPERATIONS_DAYS`: how long they stay in MongoDB. */
  retention?: RetentionOptions
  /**
   * `OPERATION_DEADLINE_MS`: past it, an operation still `started` is ended as abandoned;
   * `OPERATION_SWEEP_INTERVAL_MS`: how often that is checked.
   */
  operations?: OperationOptions
  /**
   * `RELAY_INTERVAL_MS`, `RELAY_MIN_AGE_MS`: how often the relay looks for unpublished events
   * and unfinished state changes, and how old they must be. Default 5 s and 10 s.
   */
  relay?: { intervalMs?: number; minAgeMs?: number }
  /**
   * Where every service of the process reports its metrics (`prometheusMetrics()`, one per
   * process). Not read from the environment: the program sets it. Default off.
   */
  metrics?: ServiceMetrics
  /**
   * Where every service of the process, its request-reply calls and the gateway start their
   * spans (`openTelemetryTracing()`). Not read from the environment: the program sets it, after
   * registering an OpenTelemetry SDK. Default off.
   */
  tracing?: ServiceTracing
}

/**
 * Reads the environment in one pass and reports every problem at once: a missing URL, a port
 * that is not a number, a production run without AUTH_SECRET. Development runs (`NODE_ENV`
 * `development` or `test`, as `./dev.sh` and the tests set) may go without AUTH_SECRET, with a
 * warning from the gateway; anything else must set it.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const problems: string[] = []
  const attempt = <T>(read: () => T): T | undefined => {
    try {
      return read()
    } catch (error) {
      problems.push((error as Error).message)
      return undefined
    }
  }
  const required = (name: string) => {
    const value = env[name]
    if (!value) problems.push(`${name} is not set (\`./dev.sh start\` starts local servers)`)
    return value ?? ''
  }
  const number = (name: string, fallback: number, { min = 1, max = Infinity } = {}) => {
    const text = env[name]
    if (text === undefined || text === '') return fallback
    const value = Number(text)
    if (!Number.isInteger(value) || value < min || value > max)
      problems.push(
        `${name} must be a whole number${max < Infinity ? ` from ${min} to ${max}` : ` of ${min} or more`}, got ${JSON.stringify(text)}`,
      )
    return value
  }
  const development = env.NODE_ENV === 'development' || env.NODE_ENV === 'test'
  if (!env.AUTH_SECRET && !development)
    problems.push(
      'AUTH_SECRET is not set: login tokens need a secret of your own outside development (NODE_ENV=development to use the development one)',
    )
  const natsUrl = required('NATS_URL')
  const config: ServiceConfig = {
    nats: natsUrl
      ? (attempt(() => natsOptionsFromEnv(env, natsUrl)) ?? { servers: natsUrl })
      : { servers: '' },
    mongodbUrl: required('MONGODB_URL'),
    databasePrefix: env.DATABASE_PREFIX ?? '',
    stream: {
      name: env.EVENTS_STREAM ?? serviceDefaults.stream.name,
      subjectPrefix: env.EVENTS_SUBJECT_PREFIX ?? serviceDefaults.stream.subjectPrefix,
      replicas: number('EVENTS_STREAM_REPLICAS', serviceDefaults.stream.replicas, { max: 5 }),
      partitions: number('EVENTS_STREAM_PARTITIONS', serviceDefaults.stream.partitions, {
        max: 1_024,
      }),
    },
    rpcPrefix: env.RPC_PREFIX ?? 'rpc',
    rpcTimeoutMs: number('RPC_TIMEOUT_MS', defaultRpcTimeoutMs),
    ...(env.EVENT_SIGNING_KEY ? { signingKey: env.EVENT_SIGNING_KEY } : {}),
    authSecret: env.AUTH_SECRET ?? 'dev-only-secret-change-me',
    authSecretIsDevelopmentDefault: !env.AUTH_SECRET,
    host: env.HOST ?? '127.0.0.1',
    port: number('PORT', 4000, { min: 0, max: 65_535 }),
    gatewayLimits: attempt(() => gatewayLimitsFromEnv(env)),
    webhookSecrets: attempt(() => webhookSecretsFromEnv(env)),
    development,
    retryBaseDelayMs: number('RETRY_BASE_DELAY_MS', serviceDefaults.retry.baseDelayMs),
    archive: attempt(() => archiveOptionsFromEnv(env)),
    retention: attempt(() => retentionFromEnv(env)),
    ...(env.OPERATION_DEADLINE_MS || env.OPERATION_SWEEP_INTERVAL_MS
      ? {
          operations: {
            deadlineMs: number('OPERATION_DEADLINE_MS', serviceDefaults.operations.deadlineMs),
            sweepIntervalMs: number(
              'OPERATION_SWEEP_INTERVAL_MS',
              serviceDefaults.operations.sweepIntervalMs,
            ),
          },
        }
      : {}),
    ...(env.RELAY_INTERVAL_MS || env.RELAY_MIN_AGE_MS
      ? {
          relay: {
            intervalMs: number('RELAY_INTERVAL_MS', serviceDefaults.relay.intervalMs),
            minAgeMs: number('RELAY_MIN_AGE_MS', serviceDefaults.relay.minAgeMs),
          },
        }
      : {}),
  }
  if (problems.length > 0)
    throw new ConfigurationError(
      `the environment is not a valid configuration: ${problems.join('; ')}`,
    )
  return config
}

function retentionFromEnv(env: NodeJS.ProcessEnv): RetentionOptions | undefined {
  const days = (name: string) => {
    const value = env[name]
    if (value === undefined || value === '') return undefined
    const n = Number(value)
    if (!Number.isFinite(n) || n < 0)
      throw new Error(`${name} must be a number of days, got ${value}`)
    return n * 86_400_000
  }
  const eventsMs = days('RETENTION_EVENTS_DAYS')
  const operationsMs = days('RETENTION_OPERATIONS_DAYS')
  return eventsMs === undefined && operationsMs === undefined
    ? undefined
    : { eventsMs, operationsMs }
}

/** The event store's database of this system: `<DATABASE_PREFIX>event_driven`. */
export function eventStoreDatabase(config: Pick<ServiceConfig, 'databasePrefix'>): string {
  return `${config.databasePrefix}${serviceDefaults.database}`
}
