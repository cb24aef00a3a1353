import type { ServerResponse } from 'node:http'
import { errors as natsErrors } from '@nats-io/transport-node'
import type { Logger } from 'pino'
import type { IdempotencyRecord } from './idempotency.ts'
import { ServiceError } from './rpc.ts'

/**
 * What a webhook's sender is answered once its delivery is checked: a failure of the forwarded
 * call as a status and a code (as GraphQL mutations answer them), a redelivery as the first
 * delivery's answer. Every answer is JSON.
 */

/** A service's refusal codes and their HTTP status; any other code it chooses is 422. */
const refusalStatus: Record<string, number> = {
  BAD_USER_INPUT: 422,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
}
/** Codes that say the system failed, not the delivery: never kept as the delivery's answer. */
const systemCodes = new Set(['INTERNAL', 'FORBIDDEN', 'FORMAT_UNSUPPORTED', 'ANSWER_TOO_LARGE'])
/** Of those, the ones a service answers before running anything (the request's signature or format). */
const refusedBeforeRunning = new Set(['FORBIDDEN', 'FORMAT_UNSUPPORTED'])

export interface DeliveryFailure {
  status: number
  code: string
  message: string
  /** The service refused the delivery itself: every redelivery gets this answer. */
  refusal: boolean
  /** No service ran anything: the claim is freed, so a redelivery runs it. */
  nothingRan: boolean
}

/** What the sender hears when a forwarded delivery does not succeed (as GraphQL mutations do). */
export function deliveryFailure(
  error: unknown,
  webhook: string,
  operationId: string,
  timeoutMs: number,
  logger: Logger,
): DeliveryFailure {
  const fields = { webhook, operationId }
  if (error instanceof ServiceError && !systemCodes.has(error.code))
    return {
      status: refusalStatus[error.code] ?? 422,
      code: error.code,
      message: error.message,
      refusal: true,
      nothingRan: false,
    }
  if (error instanceof natsErrors.RequestError && error.isNoResponders()) {
    logger.warn(fields, 'no service answers this webhook: nothing was recorded')
    return {
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      message: `webhook ${webhook} is not available now: nothing was recorded; deliver it again later`,
      refusal: false,
      nothingRan: true,
    }
  }
  if (error instanceof natsErrors.TimeoutError) {
    logger.warn(fields, 'no answer in time: the outcome of this delivery is unknown')
    return {
      status: 504,
      code: 'OUTCOME_UNKNOWN',
      message: `the outcome is unknown: the service did not answer within ${Math.round(timeoutMs / 1000)} s and may still finish; see operation(id: "${operationId}")`,
      refusal: false,
      nothingRan: false,
    }
  }
  logger.error({ err: error, ...fields }, 'a webhook delivery failed unexpectedly')
  return {
    status: 500,
    code: 'INTERNAL',
    message: 'the delivery failed unexpectedly; see the gateway log',
    refusal: false,
    nothingRan: error instanceof ServiceError && refusedBeforeRunning.has(error.code),
  }
}

/** What a redelivery (a delivery id seen before) is answered. */
export function replayed(
  record: IdempotencyRecord,
  deliveryId: string,
  sameBody: boolean,
): { status: number; body: unknown; headers: Record<string, string> } {
  const { operationId } = record
  const again = { 'idempotent-replayed': 'true' }
  if (!sameBody)
    return {
      status: 409,
      body: {
        error: {
          code: 'DELIVERY_ID_REUSED',
          message: `delivery ${deliveryId} was received before with another body: a new delivery needs a new id`,
        },
        operationId,
      },
      headers: {},
    }
  if (record.answer !== undefined) return { status: 200, body: record.answer, headers: again }
  if (record.refusal) {
    const { code, status } = record.refusal.extensions as { code: string; status?: number }
    return {
      status: status ?? 422,
      body: { error: { code, message: record.refusal.message }, operationId },
      headers: again,
    }
  }
  return {
    status: 409,
    body: {
      error: {
        code: 'DELIVERY_IN_PROGRESS',
        message: `delivery ${deliveryId} is still running, or its outcome is unknown: deliver it again later, or see operation(id: "${operationId}")`,
      },
      operationId,
    },
    headers: { 'retry-after': '5' },
  }
}

/** A JSON answer, unless one was sent already (a failure after answering is only logged). */
export function answer(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent) return
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  })
  response.end(text)
}
