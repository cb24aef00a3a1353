import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import type { Logger } from 'pino'
import type { z } from 'zod'

/**
 * Synchronous reads and commands between the gateway and the services go through NATS
 * request-reply, so a service's location is configuration: the same calls work in one process
 * or many. Each service answers on `<prefix>.<service>.<method>` in a queue group named after
 * it, so its instances share the requests.
 */

/** An expected failure, with a code the gateway turns into a GraphQL error. */
export class ServiceError extends Error {
  override name = 'ServiceError'
  readonly code: string
  /** The input field at fault, for bad input. */
  readonly field?: string
  constructor(code: string, message: string, field?: string) {
    super(message)
    this.code = code
    this.field = field
  }
}

/** The user a call acts as (from the login token), or null. */
export type Actor = { userId: string } | null

export type RpcMethod = (input: unknown, actor: Actor) => Promise<unknown>

type Reply =
  | { ok: true; value: unknown }
  | { ok: false; error: { code: string; message: string; field?: string } }

/** Validates input with a zod schema; bad input is a ServiceError naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const field = issue.path.join('.')
  throw new ServiceError(
    'BAD_USER_INPUT',
    field ? `${field}: ${issue.message}` : issue.message,
    field || undefined,
  )
}

export function requireActor(actor: Actor): { userId: string } {
  if (!actor)
    throw new ServiceError(
      'UNAUTHENTICATED',
      'log in first: this needs a valid token (Authorization: Bearer …)',
    )
  return actor
}

export function serveRpc(
  nc: NatsConnection,
  prefix: string,
  service: string,
  methods: Record<string, RpcMethod>,
  logger: Logger,
): Subscription {
  const answer = async (msg: Msg): Promise<Reply> => {
    const method = methods[msg.subject.slice(msg.subject.lastIndexOf('.') + 1)]
    if (!method)
      return { ok: false, error: { code: 'NOT_FOUND', message: `no method ${msg.subject}` } }
    let request: { input: unknown; actor: Actor }
    try {
      request = msg.json()
    } catch {
      return { ok: false, error: { code: 'BAD_REQUEST', message: 'the request is not JSON' } }
    }
    try {
      return { ok: true, value: (await method(request.input, request.actor)) ?? null }
    } catch (failure) {
      if (failure instanceof ServiceError) {
        return {
          ok: false,
          error: { code: failure.code, message: failure.message, field: failure.field },
        }
      }
      logger.error({ err: failure, subject: msg.subject }, 'request failed')
      return { ok: false, error: { code: 'INTERNAL', message: 'the service failed; see its log' } }
    }
  }
  return nc.subscribe(`${prefix}.${service}.*`, {
    queue: service,
    callback: (error, msg) => {
      if (error) {
        logger.error({ err: error }, 'request-reply subscription failed')
        return
      }
      void answer(msg).then((reply) => msg.respond(JSON.stringify(reply)))
    },
  })
}

export async function callRpc<T>(
  nc: NatsConnection,
  prefix: string,
  service: string,
  method: string,
  input: unknown,
  actor: Actor = null,
): Promise<T> {
  const reply = (
    await nc.request(`${prefix}.${service}.${method}`, JSON.stringify({ input, actor }), {
      timeout: 10_000,
    })
  ).json<Reply>()
  if (!reply.ok) throw new ServiceError(reply.error.code, reply.error.message, reply.error.field)
  return reply.value as T
}
