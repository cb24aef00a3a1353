import { serviceNamePattern } from '@event-driven/core'
import type { Logger } from 'pino'
import type { ServiceConfig } from './config.ts'
import type { Readiness } from './probe-server.ts'
import type { Actor } from './rpc.ts'
import { webhookNamePattern } from './webhook-secrets.ts'

/** What a resolver gets as its context: who calls, and whether the token sent was bad. */
export interface GatewayContext {
  actor: Actor
  /** A token was sent but is forged, malformed or expired. */
  badToken: boolean
  /** In a mutation: the id minted for its operation (each mutation field has its own). */
  operationId?: string
  /** The request's trace id, when the gateway traces (`config.tracing`): for log lines. */
  traceId?: string
}

/** Asks the service behind a gateway piece: `call(method, input, ctx)` over request-reply. */
export type ServiceCall = (method: string, input: unknown, ctx: GatewayContext) => Promise<unknown>

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- GraphQL args are typed per resolver
export type Resolver = (parent: unknown, args: any, ctx: GatewayContext) => unknown

/** What a service adds to the gateway: its piece of the schema, and resolvers that call it. */
export interface GatewayPiece {
  /** SDL: the service's types and its `type Query { … }` / `type Mutation { … }` fields. */
  typeDefs: string
  resolvers(call: ServiceCall): Record<string, Record<string, Resolver>>
}

/** A running service (or gateway): what stops it, and whether it can take work. */
export interface RunningService {
  stop(): Promise<void>
  /** Its readiness for the process's `/readyz` (a `ServiceRuntime` gives its health). */
  health?(): Promise<Readiness>
}

/**
 * A service as the gateway and the process runner see it. Every service, the blog's own and
 * those `event-driven new` makes, is one of these: one code path for all.
 */
export interface ServiceModule {
  /** Lowercase letters, digits, dashes: names its consumer groups, database and RPC subjects. */
  name: string
  /** Connects, registers handlers, answers its request-reply methods. */
  start(config: ServiceConfig, logger: Logger): Promise<RunningService>
  /** Its piece of the GraphQL gateway, if it has one. */
  gateway?: GatewayPiece
  /**
   * Its webhooks, by name: the gateway serves each at `POST /webhooks/<name>`, checks the
   * sender's signature (secret `WEBHOOK_SECRET_<NAME>`) and forwards each delivery, once per
   * delivery id, to the service's request-reply `method` (see `webhook-route.ts`).
   */
  webhooks?: Record<string, WebhookRoute>
}

/** One webhook of a service: the method a delivery goes to. */
export interface WebhookRoute {
  /** The service's request-reply method that handles a delivery (its input: the JSON body). */
  method: string
  /** Largest body accepted, in bytes: a larger one is refused with 413. Default 256 KiB. */
  maxBodyBytes?: number
}

export function defineServiceModule(module: ServiceModule): ServiceModule {
  if (!serviceNamePattern.test(module.name)) {
    throw new Error(
      `service name "${module.name}" must be lowercase letters, digits and dashes, starting with a letter`,
    )
  }
  for (const name of Object.keys(module.webhooks ?? {}))
    if (!webhookNamePattern.test(name))
      throw new Error(
        `webhook name "${name}" of service ${module.name} must be lowercase letters, digits and dashes, starting with a letter (at most 50)`,
      )
  return module
}
