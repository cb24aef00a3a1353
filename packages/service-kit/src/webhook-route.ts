import type { IncomingMessage, ServerResponse } from 'node:http'
import { ConfigurationError, newId } from '@event-driven/core'
import type { Logger } from 'pino'
import type { IdempotencyKeys } from './idempotency.ts'
import type { ServiceModule } from './module.ts'
import type { RpcClient } from './rpc.ts'
import { answer, deliveryFailure, replayed } from './webhook-answers.ts'
import { defaultWebhookBodyBytes, readDelivery, type SignedDelivery } from './webhook-request.ts'
import { webhookSecretEnvName, webhookSecretOf } from './webhook-secrets.ts'
import { webhookKey } from './webhook-signature.ts'

/**
 * The gateway's webhook routes: `POST /webhooks/<name>` for each webhook a module declares.
 * A delivery is checked (`webhook-request.ts`), claimed once per delivery id in the idempotency
 * keys (actor `webhook:<name>`), and forwarded to the service's method with an operation id
 * minted here; the answer is `{ operationId, result }`. A redelivery gets the first answer.
 */

/** One webhook as the gateway serves it. */
export interface ServedWebhook {
  name: string
  service: string
  method: string
  key: Buffer
  maxBodyBytes: number
}

/**
 * The webhooks of `modules`, each with its key. Throws at start, before anything is served, for
 * a name declared twice or a webhook without a secret outside development; warns for each one
 * that uses the development secret.
 */
export function webhooksOf(
  modules: readonly ServiceModule[],
  config: { webhookSecrets?: Record<string, string>; development?: boolean },
  logger: Logger,
): ServedWebhook[] {
  const served: ServedWebhook[] = []
  for (const module of modules) {
    for (const [name, route] of Object.entries(module.webhooks ?? {})) {
      const twin = served.find((webhook) => webhook.name === name)
      if (twin)
        throw new ConfigurationError(
          `webhook ${name} is declared by ${twin.service} and ${module.name}: a name is one path`,
        )
      const { secret, developmentDefault } = webhookSecretOf(config, name)
      if (developmentDefault)
        logger.warn(
          { webhook: name },
          `${webhookSecretEnvName(name)} is not set: webhook ${name} accepts deliveries signed with a public development secret`,
        )
      served.push({
        name,
        service: module.name,
        method: route.method,
        key: webhookKey(secret),
        maxBodyBytes: route.maxBodyBytes ?? defaultWebhookBodyBytes,
      })
    }
  }
  return served
}

export interface WebhookServerOptions {
  keys: IdempotencyKeys
  rpc: RpcClient
  /** How long a delivery waits for its service (then `OUTCOME_UNKNOWN`, 504). */
  timeoutMs: number
  logger: Logger
}

/** Serves a request for a webhook's path and returns true; returns false for any other path. */
export type WebhookServer = (request: IncomingMessage, response: ServerResponse) => boolean

export function webhookServer(
  webhooks: readonly ServedWebhook[],
  options: WebhookServerOptions,
): WebhookServer {
  const { logger } = options
  const byPath = new Map(webhooks.map((webhook) => [`/webhooks/${webhook.name}`, webhook]))
  return (request, response) => {
    const webhook = byPath.get((request.url ?? '').split('?')[0]!)
    if (!webhook) return false
    serve(webhook, request, response, options).catch((error: unknown) => {
      logger.error({ err: error, webhook: webhook.name }, 'a webhook delivery failed unexpectedly')
      answer(response, 500, {
        error: {
          code: 'INTERNAL',
          message: 'the delivery failed unexpectedly; see the gateway log',
        },
      })
    })
    return true
  }
}

async function serve(
  webhook: ServedWebhook,
  request: IncomingMessage,
  response: ServerResponse,
  options: WebhookServerOptions,
): Promise<void> {
  if (request.method !== 'POST')
    return answer(
      response,
      405,
      { error: { code: 'METHOD_NOT_ALLOWED', message: `webhook ${webhook.name} takes POST` } },
      { allow: 'POST' },
    )
  const read = await readDelivery(request, webhook.key, webhook.maxBodyBytes)
  if (!read.ok) {
    const { status, code } = read.refusal
    options.logger.warn({ webhook: webhook.name, status, code }, 'refused a webhook delivery')
    // A body left unread is not drained for a sender who failed the checks: the connection ends.
    const close: Record<string, string> = read.bodyLeftUnread ? { connection: 'close' } : {}
    return answer(response, status, { error: { code, message: read.refusal.message } }, close)
  }
  await deliver(webhook, read.delivery, response, options)
}

/** Claims the delivery id, forwards the first delivery, and answers every one of them. */
async function deliver(
  webhook: ServedWebhook,
  { deliveryId, body }: SignedDelivery,
  response: ServerResponse,
  { keys, rpc, timeoutMs, logger }: WebhookServerOptions,
): Promise<void> {
  const operationId = newId()
  const claim = await keys.claim({
    key: deliveryId,
    actor: `webhook:${webhook.name}`,
    mutation: webhook.name,
    input: body,
    operationId,
  })
  if (!claim.first) {
    const replay = replayed(claim.record, deliveryId, keys.sameInput(claim.record, body))
    return answer(response, replay.status, replay.body, replay.headers)
  }
  try {
    const result = await rpc.call(webhook.service, webhook.method, body, {
      operationId,
      webhook: { name: webhook.name, deliveryId },
      timeoutMs,
    })
    const answered = { operationId, result: result ?? null }
    // The command ran: its sender hears so even if the answer cannot be kept for redeliveries.
    await keys
      .answered(claim.id, answered)
      .catch((error: unknown) =>
        logger.warn(
          { err: error, operationId },
          'could not keep a webhook answer for redeliveries',
        ),
      )
    return answer(response, 200, answered)
  } catch (error) {
    const failure = deliveryFailure(error, webhook.name, operationId, timeoutMs, logger)
    if (failure.nothingRan) await keys.release(claim.id)
    else if (failure.refusal)
      await keys.refused(claim.id, {
        message: failure.message,
        extensions: { code: failure.code, status: failure.status, operationId },
      })
    return answer(
      response,
      failure.status,
      { error: { code: failure.code, message: failure.message }, operationId },
      failure.status === 503 ? { 'retry-after': '5' } : {},
    )
  }
}
