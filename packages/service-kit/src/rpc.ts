import {
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node'
import type { Logger } from 'pino'
import type { Db } from 'mongodb'
import type { z } from 'zod'
import {
  currentFormat,
  formatOf,
  readTraceContext,
  traceHeaders,
  traceIdOf,
  unreadableFormat,
  type ServiceTracing,
  type SpanStart,
  type TraceContext,
} from '@event-driven/core'
import { loadSigningSecret } from '@event-driven/core/admin'
import {
  requestRefusal,
  requestSignatureHeader,
  requestSigner,
  type RequestSigner,
} from './request-signature.ts'

/**
 * Synchronous reads and commands between the gateway and the services go through NATS
 * request-reply, so a service's location is configuration: the same calls work in one process
 * or many. Each service answers on `<prefix>.<service>.<method>` in a queue group named after
 * it, so its instances share the requests.
 */

/**
 * An expected failure, with a code the gateway turns into a GraphQL error.
 * Not an `EventDrivenError` on purpose: its code is an open set a service chooses
 * (`USERNAME_TAKEN`), sent to GraphQL clients in their convention (SCREAMING_SNAKE), while the
 * core's are a closed set (kebab-case) a service turns into one of these where it means it.
 */
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
  /**
   * For a webhook delivery: the webhook and the sender's delivery id. Only the gateway sets it,
   * after checking the sender's signature (see `requireWebhook`).
   */
  webhook?: WebhookCall
  /**
   * The service's logger, its lines carrying the call's operation id and trace id (when there
   * are): log with it, so a request's lines are found with the rest of its chain.
   */
  logger?: Logger
}

/** The webhook a call delivers, as the gateway checked it. */
export interface WebhookCall {
  /** The webhook's name (its path is `/webhooks/<name>`). */
  name: string
  /** The sender's delivery id (`webhook-id`): the same on every redelivery. */
  deliveryId: string
}

export type RpcMethod = (input: unknown, actor: Actor, call: CallInfo) => Promise<unknown>

/** A request's format (`Request-Format`, docs/upgrading.md); absent on format 1. */
export const requestFormatHeader = 'Request-Format'

/** An answer; `format` is absent on format 1. */
type Reply = { format?: number } & (
  | { ok: true; value: unknown }
  | { ok: false; error: { code: string; message: string; field?: string } }
)

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

/**
 * Refuses a call that is not a delivery of webhook `name` (`FORBIDDEN`): a method meant for a
 * webhook is reached by no GraphQL resolver. Returns the actor to record its operation with,
 * `webhook:<name>`, and the delivery id.
 */
export function requireWebhook(
  call: CallInfo,
  name: string,
): { actor: `webhook:${string}`; deliveryId: string } {
  if (call.webhook?.name !== name)
    throw new ServiceError('FORBIDDEN', `only a signed delivery of webhook ${name} may call this`)
  return { actor: `webhook:${name}`, deliveryId: call.webhook.deliveryId }
}

/** Where requests go, and how they are signed: what a client and a server share. */
export interface RpcSettings {
  /** Prefix of request subjects: `<prefix>.<service>.<method>`. */
  prefix: string
  /** Signs outgoing requests and checks incoming ones (see `request-signature.ts`). */
  signer: RequestSigner
  /**
   * Starts a client span per call and a server span per answered request, carrying the trace in
   * `traceparent` between them; absent when tracing is off.
   */
  tracing?: ServiceTracing
}

/**
 * The settings of a system: its request prefix, and a signer keyed by the system's signing
 * secret (`signingKey`, else the one stored in the event store database `eventStoreDb`).
 */
export async function loadRpcSettings(
  eventStoreDb: Db,
  prefix: string,
  signingKey?: string,
): Promise<RpcSettings> {
  const secret = await loadSigningSecret({ db: eventStoreDb }, signingKey)
  return { prefix, signer: requestSigner(secret) }
}

/**
 * Answers requests for `methods` on `<prefix>.<service>.*`. A request without a valid, fresh
 * signature is refused (`FORBIDDEN`) and logged before any method runs: its actor could be
 * anyone's.
 */
export function serveRpc(
  nc: NatsConnection,
  { prefix, signer, tracing }: RpcSettings,
  service: string,
  methods: Record<string, RpcMethod>,
  logger: Logger,
): Subscription {
  const answer = async (msg: Msg): Promise<Reply> => {
    let headers: MsgHdrs | undefined
    try {
      headers = msg.headers
    } catch {
      // Lines no client sends (a raw peer's): refused, never thrown out of the subscription.
      return {
        ok: false,
        error: { code: 'BAD_REQUEST', message: 'the request’s headers cannot be read' },
      }
    }
    const check = signer.check(msg.subject, headers?.get(requestSignatureHeader), msg.data)
    if (check !== 'valid') {
      logger.warn({ subject: msg.subject, check }, 'refused a request: its signature is not valid')
      return { ok: false, error: { code: 'FORBIDDEN', message: requestRefusal(check) } }
    }
    // From a newer gateway (a deploy rolled back): refused before anything runs.
    const tooNew = unreadableFormat(
      formatOf(headers?.get(requestFormatHeader) || undefined),
      'the request',
    )
    if (tooNew) return { ok: false, error: { code: 'FORMAT_UNSUPPORTED', message: tooNew } }
    const methodName = msg.subject.slice(msg.subject.lastIndexOf('.') + 1)
    const method = Object.hasOwn(methods, methodName) ? methods[methodName] : undefined
    if (!method)
      return { ok: false, error: { code: 'NOT_FOUND', message: `no method ${msg.subject}` } }
    let request: { input: unknown; actor: unknown; operationId?: unknown; webhook?: unknown }
    try {
      request = msg.json()
    } catch {
      return { ok: false, error: { code: 'BAD_REQUEST', message: 'the request is not JSON' } }
    }
    const webhook = webhookOf(request.webhook)
    const operationId = typeof request.operationId === 'string' ? request.operationId : undefined
    // The caller's trace: what the method records (its operation) belongs to it.
    const incoming = readTraceContext(
      headers?.get(traceHeaders.traceparent),
      headers?.get(traceHeaders.tracestate),
    )
    const span = tracing?.start(rpcSpan('server', service, methodName, incoming))
    // Without tracing here, lines still carry the trace the request came with.
    const traceId = span ? span.traceId : incoming && traceIdOf(incoming)
    const callLogger =
      operationId || traceId
        ? logger.child({
            ...(operationId ? { operationId: operationId.slice(0, 200) } : {}),
            ...(traceId ? { traceId } : {}),
          })
        : logger
    const call: CallInfo = {
      ...(operationId ? { operationId } : {}),
      ...(webhook ? { webhook } : {}),
      logger: callLogger,
    }
    try {
      const run = () => method(request.input, actorOf(request.actor), call)
      const value = (await (span ? span.within(run) : run())) ?? null
      span?.end()
      return { ok: true, value }
    } catch (failure) {
      span?.end(failure)
      if (failure instanceof ServiceError) {
        return {
          ok: false,
          error: { code: failure.code, message: failure.message, field: failure.field },
        }
      }
      callLogger.error({ err: failure, subject: msg.subject }, 'request failed')
      return { ok: false, error: { code: 'INTERNAL', message: 'the service failed; see its log' } }
    }
  }
  const respond = (msg: Msg, reply: Reply) => {
    try {
      msg.respond(JSON.stringify(reply))
    } catch (error) {
      // An answer over NATS's max payload: say so, rather than leave the caller to time out.
      logger.error({ err: error, subject: msg.subject }, 'the answer could not be sent')
      msg.respond(
        JSON.stringify({
          ok: false,
          error: { code: 'ANSWER_TOO_LARGE', message: 'the answer is larger than NATS carries' },
        } satisfies Reply),
      )
    }
  }
  return nc.subscribe(`${prefix}.${service}.*`, {
    queue: service,
    callback: (error, msg) => {
      if (error) {
        logger.error({ err: error }, 'request-reply subscription failed')
        return
      }
      void answer(msg).then((reply) => respond(msg, { format: currentFormat, ...reply }))
    },
  })
}

/** A signed request's actor, kept only in its one valid shape. */
function actorOf(value: unknown): Actor {
  if (typeof value !== 'object' || value === null) return null
  const { userId } = value as { userId?: unknown }
  return typeof userId === 'string' ? { userId } : null
}

/** A signed request's webhook, kept only in its one valid shape. */
function webhookOf(value: unknown): WebhookCall | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { name, deliveryId } = value as { name?: unknown; deliveryId?: unknown }
  return typeof name === 'string' && typeof deliveryId === 'string'
    ? { name, deliveryId }
    : undefined
}

/** How long a caller waits for a service's answer by default. */
export const defaultRpcTimeoutMs = 10_000

export interface RpcCallOptions extends Omit<CallInfo, 'logger'> {
  /** Who the call acts for (the user the gateway authenticated). Default: no one. */
  actor?: Actor
  timeoutMs?: number
}

/** Asks services: signs each request, so services can trust the actor it names. */
export interface RpcClient {
  /**
   * Asks a service. A timeout or a missing service rejects with the NATS client's error (the
   * gateway tells them apart: an unknown outcome, or nothing done); a refusal with ServiceError,
   * and so does a request larger than NATS carries (`PAYLOAD_TOO_LARGE`, sent to no one).
   */
  call<T>(service: string, method: string, input: unknown, options?: RpcCallOptions): Promise<T>
}

export function rpcClient(
  nc: NatsConnection,
  { prefix, signer, tracing }: RpcSettings,
  logger: Logger,
  defaultTimeoutMs = defaultRpcTimeoutMs,
): RpcClient {
  return {
    async call<T>(
      service: string,
      method: string,
      input: unknown,
      { actor = null, operationId, webhook, timeoutMs = defaultTimeoutMs }: RpcCallOptions = {},
    ) {
      const subject = `${prefix}.${service}.${method}`
      const body = JSON.stringify({
        input,
        actor,
        ...(operationId ? { operationId } : {}),
        ...(webhook ? { webhook } : {}),
      })
      const bytes = Buffer.byteLength(body)
      // Refused here with a code, rather than by the client with an error nobody can act on.
      const maxPayload = nc.info?.max_payload ?? 1024 * 1024
      if (bytes + 256 > maxPayload) {
        logger.warn({ subject, bytes, maxPayload }, 'refused a request larger than NATS carries')
        throw new ServiceError(
          'PAYLOAD_TOO_LARGE',
          `the input is too large: ${bytes} bytes, and NATS carries at most ${maxPayload - 256} here; send less`,
        )
      }
      const headers = natsHeaders()
      headers.set(requestSignatureHeader, signer.sign(subject, body))
      headers.set(requestFormatHeader, String(currentFormat))
      // Belongs to whatever is current where the call is made (the gateway's GraphQL request).
      const span = tracing?.start(rpcSpan('client', service, method, 'active'))
      if (span?.context) {
        headers.set(traceHeaders.traceparent, span.context.traceparent)
        if (span.context.tracestate) headers.set(traceHeaders.tracestate, span.context.tracestate)
      }
      try {
        const answer = await nc.request(subject, body, { timeout: timeoutMs, headers })
        const reply = answer.json<Reply>()
        const tooNew = unreadableFormat(formatOf(reply.format), 'the answer')
        if (tooNew) throw new ServiceError('FORMAT_UNSUPPORTED', tooNew)
        if (!reply.ok)
          throw new ServiceError(reply.error.code, reply.error.message, reply.error.field)
        span?.end()
        return reply.value as T
      } catch (error) {
        span?.end(error instanceof ServiceError ? `${error.code}: ${error.message}` : error)
        throw error
      }
    },
  }
}

/**
 * A request's span, after OpenTelemetry's RPC conventions: `<service>/<method>`. The server
 * names only methods it has (the subscription takes any last token), so names stay bounded.
 */
function rpcSpan(
  kind: 'client' | 'server',
  service: string,
  method: string,
  parent: TraceContext | 'active' | undefined,
): SpanStart {
  return {
    name: `${service}/${method}`,
    kind,
    ...(parent ? { parent } : {}),
    attributes: { 'rpc.system': 'nats', 'rpc.service': service, 'rpc.method': method },
  }
}
