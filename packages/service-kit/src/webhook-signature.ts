import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Webhook deliveries are signed as [Standard Webhooks](https://www.standardwebhooks.com/) signs
 * them, so a sender can use any of its libraries: three headers, `webhook-id` (the delivery id,
 * the same on every redelivery), `webhook-timestamp` (Unix seconds) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256>`, space-separated when a sender signs with more than one secret), the
 * HMAC taken over `<id>.<timestamp>.<raw body>` with the key of a `whsec_<base64>` secret.
 */

/** The delivery id header: the sender's id of one delivery, the same on every redelivery. */
export const webhookIdHeader = 'webhook-id'
/** The time the delivery was signed, in Unix seconds. */
export const webhookTimestampHeader = 'webhook-timestamp'
/** `v1,<base64>`, one or more, separated by spaces. */
export const webhookSignatureHeader = 'webhook-signature'

/** How far a delivery's timestamp may be from the receiver's clock: older (or newer) ones are replays. */
export const webhookToleranceMs = 5 * 60_000

const secretPrefix = 'whsec_'
const strictBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const minSecretBytes = 24

/**
 * The HMAC key of a `whsec_<base64>` secret (at least 24 bytes once decoded, as Standard Webhooks
 * asks). Throws, saying how to make one, for anything else: a secret is checked when it is read,
 * never when the first delivery arrives.
 */
export function webhookKey(secret: string): Buffer {
  const encoded = secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : undefined
  const key =
    encoded !== undefined && strictBase64.test(encoded) ? Buffer.from(encoded, 'base64') : undefined
  if (!key || key.length < minSecretBytes)
    throw new Error(
      `a webhook secret is "whsec_" and the base64 of at least ${minSecretBytes} random bytes; make one with: node -e "console.log('whsec_' + require('crypto').randomBytes(32).toString('base64'))"`,
    )
  return key
}

/**
 * A development secret for a webhook: public (anyone can compute it), so it is used only where
 * development defaults are allowed, with a warning.
 */
export function developmentWebhookSecret(name: string): string {
  const bytes = createHash('sha256').update(`event-driven development webhook secret: ${name}`)
  return `${secretPrefix}${bytes.digest('base64')}`
}

/** What one delivery is signed over. */
export interface WebhookDelivery {
  /** The delivery id (`webhook-id`). */
  id: string
  /** When it is signed, in Unix seconds (`webhook-timestamp`). */
  timestamp: number
  /** The raw body, byte for byte as sent. */
  body: string | Uint8Array
}

function mac(key: Buffer, id: string, timestamp: string, body: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest()
}

/** The `webhook-signature` value of a delivery: `v1,<base64>`. */
export function signWebhook(secret: string, delivery: WebhookDelivery): string {
  const signature = mac(webhookKey(secret), delivery.id, String(delivery.timestamp), delivery.body)
  return `v1,${signature.toString('base64')}`
}

/**
 * The three headers a sender sends with `body`: what a test, a script or another service of
 * yours needs to deliver to a webhook of the gateway.
 */
export function signedWebhookHeaders(
  secret: string,
  id: string,
  body: string | Uint8Array,
  now = Date.now(),
): Record<string, string> {
  const timestamp = Math.floor(now / 1000)
  return {
    [webhookIdHeader]: id,
    [webhookTimestampHeader]: String(timestamp),
    [webhookSignatureHeader]: signWebhook(secret, { id, timestamp, body }),
  }
}

/** Why a delivery's signature did not check out, or that it did. */
export type WebhookCheck = 'valid' | 'missing' | 'invalid' | 'stale'

/** The headers a delivery is checked by, as received (absent ones undefined). */
export interface WebhookSignatureHeaders {
  id?: string
  timestamp?: string
  signature?: string
}

/** Signatures looked at in one header: a sender rotating its secret sends two, not hundreds. */
const maxSignatures = 8

/**
 * Checks a delivery: every header present, the timestamp within `webhookToleranceMs` of `now`,
 * and one of the `v1` signatures equal (compared in constant time) to the HMAC of the id, the
 * timestamp and the raw body. Entries of other versions are skipped, as the scheme asks.
 */
export function checkWebhookSignature(
  key: Buffer,
  headers: WebhookSignatureHeaders,
  body: Uint8Array,
  now = Date.now(),
): WebhookCheck {
  const { id, timestamp, signature } = headers
  if (!id || !timestamp || !signature) return 'missing'
  if (!/^\d{1,12}$/.test(timestamp)) return 'invalid'
  if (Math.abs(now - Number(timestamp) * 1000) > webhookToleranceMs) return 'stale'
  const expected = mac(key, id, timestamp, body)
  const entries = signature.split(' ').slice(0, maxSignatures)
  const matches = entries.some((entry) => {
    const [version, encoded] = entry.split(',', 2)
    if (version !== 'v1' || !encoded || !strictBase64.test(encoded)) return false
    const given = Buffer.from(encoded, 'base64')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
  return matches ? 'valid' : 'invalid'
}
