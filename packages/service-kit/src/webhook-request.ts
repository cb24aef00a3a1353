import type { IncomingMessage } from 'node:http'
import {
  checkWebhookSignature,
  webhookIdHeader,
  webhookSignatureHeader,
  webhookTimestampHeader,
  webhookToleranceMs,
  type WebhookCheck,
} from './webhook-signature.ts'

/**
 * Reads one webhook delivery off an HTTP request and refuses anything hostile before it can cost
 * more than reading a bounded body: headers bounded and well-formed, the body at most
 * `maxBodyBytes` (by `Content-Length` before reading, and while reading), the signature checked
 * over the raw bytes, then JSON only. Nothing here touches a database.
 */

/** Bytes of a delivery's body by default: a webhook carries a notification, not a file. */
export const defaultWebhookBodyBytes = 256 * 1024

/** Why a delivery is refused: its HTTP status, a code to branch on, a reason a person can act on. */
export interface WebhookRefusal {
  status: number
  code: string
  message: string
}

/** A delivery whose signature checked out, with its parsed JSON body. */
export interface SignedDelivery {
  deliveryId: string
  body: unknown
}

/** A checked delivery, or why it is refused (and whether its body was left unread). */
export type DeliveryRead =
  | { ok: true; delivery: SignedDelivery }
  | { ok: false; refusal: WebhookRefusal; bodyLeftUnread: boolean }

/** The longest `webhook-signature` looked at: a few `v1,<44 characters>` entries fit many times. */
const maxSignatureChars = 1024
/** Visible ASCII, 1 to 200 characters: what Standard Webhooks senders send (`msg_…`, UUIDs). */
const deliveryIdPattern = /^[\x21-\x7e]{1,200}$/

const refuse = (
  status: number,
  code: string,
  message: string,
  bodyLeftUnread = true,
): DeliveryRead => ({
  ok: false,
  refusal: { status, code, message },
  bodyLeftUnread,
})

const signatureRefusals: Record<Exclude<WebhookCheck, 'valid'>, [code: string, message: string]> = {
  missing: [
    'SIGNATURE_MISSING',
    `the delivery needs the headers ${webhookIdHeader}, ${webhookTimestampHeader} and ${webhookSignatureHeader} (Standard Webhooks)`,
  ],
  invalid: [
    'SIGNATURE_INVALID',
    `${webhookSignatureHeader} does not match the delivery: signed with another secret, or changed on the way`,
  ],
  stale: [
    'SIGNATURE_STALE',
    `${webhookTimestampHeader} is more than ${webhookToleranceMs / 60_000} minutes from the receiver's clock: a replayed delivery is refused (or the clocks disagree)`,
  ],
}

/** One header's value, undefined when absent. Node joins a repeated one (`a, b`): it then fails its check. */
function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name]
  return typeof value === 'string' ? value : undefined
}

/** Reads and checks a delivery signed with `key`; see the module comment for the order. */
export async function readDelivery(
  request: IncomingMessage,
  key: Buffer,
  maxBodyBytes: number,
  now = () => Date.now(),
): Promise<DeliveryRead> {
  const headers = {
    id: headerValue(request, webhookIdHeader),
    timestamp: headerValue(request, webhookTimestampHeader),
    signature: headerValue(request, webhookSignatureHeader),
  }
  if (!headers.id || !headers.timestamp || !headers.signature)
    return refuse(401, ...signatureRefusals.missing)
  if (!deliveryIdPattern.test(headers.id))
    return refuse(
      400,
      'BAD_DELIVERY_ID',
      `${webhookIdHeader} must be 1 to 200 visible ASCII characters (no spaces or control characters)`,
    )
  if (headers.signature.length > maxSignatureChars || headers.timestamp.length > 20)
    return refuse(
      400,
      'HEADER_TOO_LONG',
      `${webhookSignatureHeader} is at most ${maxSignatureChars} characters, ${webhookTimestampHeader} at most 20`,
    )
  const declared = Number(request.headers['content-length'] ?? Number.NaN)
  if (declared > maxBodyBytes) return tooLarge(maxBodyBytes)
  const raw = await readBody(request, maxBodyBytes)
  if (!raw) return tooLarge(maxBodyBytes)
  const check = checkWebhookSignature(key, headers, raw, now())
  if (check !== 'valid') return refuse(401, ...signatureRefusals[check], false)
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (mediaType !== 'application/json')
    return refuse(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'a delivery is JSON: send content-type application/json',
    )
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(raw)
    return { ok: true, delivery: { deliveryId: headers.id, body: JSON.parse(text) as unknown } }
  } catch {
    return refuse(400, 'BAD_JSON', 'the body is not JSON (UTF-8)', false)
  }
}

const tooLarge = (maxBodyBytes: number) =>
  refuse(413, 'PAYLOAD_TOO_LARGE', `a delivery's body is at most ${maxBodyBytes} bytes`)

/**
 * The body's bytes, or undefined as soon as it passes `maxBodyBytes`. It stops reading then
 * without destroying the request, so the refusal can still be answered on the connection.
 */
function readBody(request: IncomingMessage, maxBodyBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const settle = (value: Buffer | undefined, error?: Error) => {
      request.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose)
      if (error) reject(error)
      else resolve(value)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxBodyBytes) return void chunks.push(chunk)
      request.pause()
      settle(undefined)
    }
    const onEnd = () => settle(Buffer.concat(chunks))
    const onError = (error: Error) => settle(undefined, error)
    const onClose = () => settle(undefined, new Error('the sender closed the connection mid-body'))
    request.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose)
  })
}
