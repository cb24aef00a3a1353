import {
  archiveOptionsFromEnv,
  natsOptionsFromEnv,
  serviceDefaults,
  changeSteps,
  type ArchiveOptions,
  type ChangeStep,
  type NatsOptions,
  type OperationOptions,
  type RetentionOptions,
} from '@event-driven/core'
import { defaultRpcTimeoutMs } from './rpc.ts'
import { gatewayLimitsFromEnv, type GatewayLimits } from './gateway-limits.ts'

/** Everything a process of a service (or the gateway) reads from its environment. */
export interface ServiceConfig {
  /** `NATS_URL` and, when the server asks, credentials and TLS (see `natsOptionsFromEnv`). */
  nats: NatsOptions
  mongodbUrl: string
  /** Prefix of every database name (`<prefix>users`, …, `<prefix>event_driven`). Default empty. */
  databasePrefix: string
  /** The JetStream stream and its subject prefix. Default `EVENTS`, `events`. */
  stream: { name: string; subjectPrefix: string }
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
   * `FAULT_KILL_AT_CHANGE_STEP` (fault tests only): the process kills itself (SIGKILL) right
   * after this step of its first state change. Never set it in production.
   */
  killAtChangeStep?: ChangeStep
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const required = (name: string) => {
    const value = env[name]
    if (!value)
      throw new Error(`${name} is not set: run \`./dev.sh start\`, which starts local servers`)
    return value
  }
  const prefix = env.DATABASE_PREFIX ?? ''
  return {
    nats: natsOptionsFromEnv(env, required('NATS_URL')),
    mongodbUrl: required('MONGODB_URL'),
    databasePrefix: prefix,
    stream: {
      name: env.EVENTS_STREAM ?? serviceDefaults.stream.name,
      subjectPrefix: env.EVENTS_SUBJECT_PREFIX ?? serviceDefaults.stream.subjectPrefix,
    },
    rpcPrefix: env.RPC_PREFIX ?? 'rpc',
    rpcTimeoutMs: Number(env.RPC_TIMEOUT_MS ?? defaultRpcTimeoutMs),
    ...(env.EVENT_SIGNING_KEY ? { signingKey: env.EVENT_SIGNING_KEY } : {}),
    authSecret: env.AUTH_SECRET ?? 'dev-only-secret-change-me',
    authSecretIsDevelopmentDefault: !env.AUTH_SECRET,
    host: env.HOST ?? '127.0.0.1',
    port: Number(env.PORT ?? 4000),
    gatewayLimits: gatewayLimitsFromEnv(env),
    retryBaseDelayMs: Number(env.RETRY_BASE_DELAY_MS ?? 1_000),
    archive: archiveOptionsFromEnv(env),
    retention: retentionFromEnv(env),
    ...(env.OPERATION_DEADLINE_MS || env.OPERATION_SWEEP_INTERVAL_MS
      ? {
          operations: definedOnly({
            deadlineMs: env.OPERATION_DEADLINE_MS,
            sweepIntervalMs: env.OPERATION_SWEEP_INTERVAL_MS,
          }),
        }
      : {}),
    ...(env.RELAY_INTERVAL_MS || env.RELAY_MIN_AGE_MS
      ? {
          relay: definedOnly({
            intervalMs: env.RELAY_INTERVAL_MS,
            minAgeMs: env.RELAY_MIN_AGE_MS,
          }),
        }
      : {}),
    ...killAtChangeStep(env.FAULT_KILL_AT_CHANGE_STEP),
  }
}

/** The settings that are set, as numbers (an unset one keeps the core's default). */
function definedOnly<Key extends string>(
  values: Record<Key, string | undefined>,
): Partial<Record<Key, number>> {
  return Object.fromEntries(
    Object.entries(values)
      .filter(([, value]) => value)
      .map(([key, value]) => [key, Number(value)]),
  ) as Partial<Record<Key, number>>
}

function killAtChangeStep(step: string | undefined): Pick<ServiceConfig, 'killAtChangeStep'> {
  if (!step) return {}
  if (!(changeSteps as readonly string[]).includes(step))
    throw new Error(`FAULT_KILL_AT_CHANGE_STEP must be one of ${changeSteps.join(', ')}`)
  return { killAtChangeStep: step as ChangeStep }
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
