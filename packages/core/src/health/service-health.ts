import type { MongoCheck } from './mongo-ping.ts'
import type { NatsState } from './nats-state.ts'

/**
 * Where a consumer group of this instance stands: `pulling` (bound to its durable, its consume
 * loop running), `not started` (before `start()`), `starting`, `stopping` (draining its
 * handlers), `stopped`, or `failed` (its pull ended with an error: the consumer or the stream
 * was deleted).
 */
export type ConsumerGroupState =
  'not started' | 'starting' | 'pulling' | 'stopping' | 'stopped' | 'failed'

/** Where a service stands in its lifetime. `draining` is `stop()` at work. */
export type ServiceLifecycle = 'not started' | 'starting' | 'running' | 'draining' | 'stopped'

/**
 * A service's health: it is alive whenever it can answer; it is ready when it is running, NATS
 * is connected, MongoDB answers, and every consumer group pulls. `checks` says which is not.
 */
export interface ServiceHealth {
  /** The service's name. */
  name: string
  /** Always true: an answer means the process runs. */
  alive: true
  /** True when every check is good: the service can take work. */
  ready: boolean
  checks: {
    lifecycle: ServiceLifecycle
    nats: NatsState
    /** `ok`, `unreachable`, or `not checked` once stopped (the reason is in `reasons`). */
    mongodb: MongoCheck['state']
    /** Each consumer group of this instance, by name (`<service>.<handler>`). */
    consumerGroups: Record<string, ConsumerGroupState>
    /** `stop()` was called: readiness went false before the handlers began to drain. */
    draining: boolean
  }
  /** Why it is not ready, one sentence per failed check; empty when ready. */
  reasons: string[]
}

/** What a health report is made of. */
export interface HealthInputs {
  name: string
  lifecycle: ServiceLifecycle
  nats: NatsState
  mongodb: MongoCheck
  consumerGroups: Record<string, ConsumerGroupState>
}

/** Judges the inputs: ready only when all of them are good, with a reason for each that is not. */
export function judgeHealth(inputs: HealthInputs): ServiceHealth {
  const { name, lifecycle, nats, mongodb, consumerGroups } = inputs
  const reasons: string[] = []
  if (lifecycle !== 'running') reasons.push(`the service is ${lifecycle}`)
  if (nats !== 'connected') reasons.push(`NATS is ${nats}`)
  if (mongodb.state !== 'ok') reasons.push(`MongoDB is ${mongodb.state}: ${mongodb.reason}`)
  for (const [group, state] of Object.entries(consumerGroups))
    if (state !== 'pulling') reasons.push(`consumer group ${group} is ${state}`)
  return {
    name,
    alive: true,
    ready: reasons.length === 0,
    checks: {
      lifecycle,
      nats,
      mongodb: mongodb.state,
      consumerGroups,
      draining: lifecycle === 'draining',
    },
    reasons,
  }
}
