import {
  judgeHealth,
  type MongoCheck,
  type NatsState,
  type Service,
  type ServiceHealth,
} from '@event-driven/core'

/** A service runtime's health: its core service's, and its request-reply connection's. */
export interface RuntimeHealth extends ServiceHealth {
  checks: ServiceHealth['checks'] & {
    /** The NATS connection its request-reply methods answer on. */
    requestReply: NatsState
  }
}

/**
 * The core's health with the runtime's own parts added: its request-reply connection, and its
 * `stop()` (which stops timers and request-reply before the core drains, and is draining too).
 */
export async function runtimeHealth(
  core: Pick<Service, 'health'>,
  requestReply: NatsState,
  stopping: boolean,
): Promise<RuntimeHealth> {
  const health = await core.health()
  const draining = health.checks.draining || (stopping && health.checks.lifecycle === 'running')
  const reasons = [...health.reasons]
  if (draining && !health.checks.draining) reasons.push('the service is draining')
  if (requestReply !== 'connected')
    reasons.push(`the request-reply NATS connection is ${requestReply}`)
  return {
    ...health,
    ready: reasons.length === 0,
    reasons,
    checks: {
      ...health.checks,
      ...(draining ? { lifecycle: 'draining' as const } : {}),
      draining,
      requestReply,
    },
  }
}

/** The gateway's health: it takes requests while NATS is connected and MongoDB answers. */
export interface GatewayHealth {
  name: 'gateway'
  /** Always true: an answer means the process runs. */
  alive: true
  ready: boolean
  checks: {
    nats: NatsState
    mongodb: MongoCheck['state']
    /** `stop()` was called: it finishes the requests it has and takes no more. */
    draining: boolean
  }
  /** Why it is not ready, one sentence per failed check; empty when ready. */
  reasons: string[]
}

/** Judges the gateway's connections (its own words: it has no consumer groups or lifecycle). */
export function gatewayHealth(
  nats: NatsState,
  mongodb: MongoCheck,
  stopping: boolean,
): GatewayHealth {
  const judged = judgeHealth({
    name: 'gateway',
    lifecycle: stopping ? 'draining' : 'running',
    nats,
    mongodb,
    consumerGroups: {},
  })
  return {
    name: 'gateway',
    alive: true,
    ready: judged.ready,
    checks: { nats, mongodb: mongodb.state, draining: stopping },
    reasons: judged.reasons,
  }
}
