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

/** What a call carries besides its input and actor. */
export interface CallInfo {
  /**
   * For a command: the id the gateway minted for its operation, so the caller knows it whatever
   * happens. Record the operation under it (`startOperation({ id })`) before anything else.
   */
  operationId?: string
}

export type RpcMethod = (input: unknown, actor: Actor, call: CallInfo) => Promise<unknown>

type Reply =
  | { ok: true; value: unknown }
  | { ok: false; error: { code: string; message: string; field?: string } }

/**
 * Validates input with a zod schema; bad input is a ServiceError naming the field. Text holding
 * a NUL character is refused too, whatever the schema: the event store cannot hold it (FerretDB
 * refuses it), so it must be refused before an operation is recorded, not halfway through.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input)
  if (result.success) {
    const field = pathOfNul(result.data)
    if (field !== undefined)
      throw new ServiceError(
        'BAD_USER_INPUT',
        `${field ? `${field}: ` : ''}must not contain NUL characters`,
        field || undefined,
      )
    return result.data
  }
  const issue = result.error.issues[0]!
  const field = issue.path.join('.')
  throw new ServiceError(
    'BAD_USER_INPUT',
    field ? `${field}: ${issue.message}` : issue.message,
    field || undefined,
  )
}

/** The path of the first text in `value` holding a NUL character ('' for the root), if any. */
function pathOfNul(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined
  if (typeof value !== 'object' || value === null) return undefined
  for (const [key, item] of Object.entries(value)) {
    const found = pathOfNul(item, path ? `${path}.${key}` : key)
    if (found !== undefined) return found
  }
  return undefined
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
    let request: { input: unknown; actor: Actor; operationId?: unknown }
    try {
      request = msg.json()
    } catch {
      return { ok: false, error: { code: 'BAD_REQUEST', message: 'the request is not JSON' } }
    }
    const call: CallInfo =
      typeof request.operationId === 'string' ? { operationId: request.operationId } : {}
    try {
      return { ok: true, value: (await method(request.input, request.actor, call)) ?? null }
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

/** How long a caller waits for a service's answer by default. */
export const defaultRpcTimeoutMs = 10_000

/**
 * Asks a service. A timeout or a missing service rejects with the NATS client's error (the
 * gateway tells them apart: an unknown outcome, or nothing done); a refusal with ServiceError.
 */
export async function callRpc<T>(
  nc: NatsConnection,
  prefix: string,
  service: string,
  method: string,
  input: unknown,
  actor: Actor = null,
  { operationId, timeoutMs = defaultRpcTimeoutMs }: CallInfo & { timeoutMs?: number } = {},
): Promise<T> {
  const request = JSON.stringify({ input, actor, ...(operationId ? { operationId } : {}) })
  const reply = (
    await nc.request(`${prefix}.${service}.${method}`, request, { timeout: timeoutMs })
  ).json<Reply>()
  if (!reply.ok) throw new ServiceError(reply.error.code, reply.error.message, reply.error.field)
  return reply.value as T
}
