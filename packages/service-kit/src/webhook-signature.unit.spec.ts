import { describe, expect, it } from 'vitest'
import { configFromEnv } from './config.ts'
import { webhookSecretEnvName, webhookSecretOf } from './webhook-secrets.ts'
import {
  checkWebhookSignature,
  developmentWebhookSecret,
  signedWebhookHeaders,
  signWebhook,
  webhookKey,
} from './webhook-signature.ts'

// The Standard Webhooks specification's published test vector: matching it is what lets a sender
// sign with any of that specification's libraries.
const vector = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
}
const at = vector.timestamp * 1000
const key = webhookKey(vector.secret)
const bytes = (text: string) => new TextEncoder().encode(text)
const check = (headers: { id?: string; timestamp?: string; signature?: string }, now = at) =>
  checkWebhookSignature(key, headers, bytes(vector.body), now)
const signed = { id: vector.id, timestamp: String(vector.timestamp), signature: vector.signature }

describe('webhook signatures (Standard Webhooks)', () => {
  it('sign the specification’s test vector as its libraries do', () => {
    expect(signWebhook(vector.secret, vector)).toBe(vector.signature)
    expect(check(signed)).toBe('valid')
  })

  it('accept any one matching v1 entry, skipping other versions (a sender rotating its secret)', () => {
    const other = signWebhook(developmentWebhookSecret('other'), vector)
    expect(check({ ...signed, signature: `v2,abc ${other} ${vector.signature}` })).toBe('valid')
    expect(check({ ...signed, signature: other })).toBe('invalid')
  })

  it('refuse a changed body, id or timestamp, and a missing header', () => {
    expect(checkWebhookSignature(key, signed, bytes('{"test": 2432232315}'), at)).toBe('invalid')
    expect(check({ ...signed, id: 'msg_other' })).toBe('invalid')
    expect(check({ ...signed, timestamp: String(vector.timestamp + 1) })).toBe('invalid')
    expect(check({ ...signed, timestamp: '1e9' })).toBe('invalid')
    expect(check({ ...signed, signature: 'v1,not base64!' })).toBe('invalid')
    expect(check({ id: vector.id, timestamp: signed.timestamp })).toBe('missing')
    expect(check({ ...signed, id: '' })).toBe('missing')
  })

  it('refuse a timestamp more than 5 minutes from the receiver’s clock, either way', () => {
    expect(check(signed, at + 5 * 60_000)).toBe('valid')
    expect(check(signed, at + 5 * 60_000 + 1_000)).toBe('stale')
    expect(check(signed, at - 5 * 60_000 - 1_000)).toBe('stale')
  })

  it('headers for a sender: what the receiver checks as valid', () => {
    const now = Date.now()
    const headers = signedWebhookHeaders(vector.secret, 'delivery-1', '{"a":1}', now)
    const got = {
      id: headers['webhook-id'],
      timestamp: headers['webhook-timestamp'],
      signature: headers['webhook-signature'],
    }
    expect(checkWebhookSignature(key, got, bytes('{"a":1}'), now)).toBe('valid')
  })
})

describe('webhook secrets', () => {
  it('are whsec_ and base64 of at least 24 bytes; anything else is refused with how to make one', () => {
    expect(() => webhookKey('correct-horse-battery-staple')).toThrow(/whsec_.*randomBytes/)
    expect(() => webhookKey('whsec_c2hvcnQ=')).toThrow(/at least 24/)
    expect(() => webhookKey('whsec_not base64 at all, not at all!!')).toThrow(/whsec_/)
    expect(webhookKey(developmentWebhookSecret('moderation'))).toHaveLength(32)
  })

  it('come from WEBHOOK_SECRET_<NAME>, dashes as underscores; a bad one stops the config', () => {
    const env = { NATS_URL: 'nats://x', MONGODB_URL: 'mongodb://x', AUTH_SECRET: 'a' }
    expect(webhookSecretEnvName('payment-received')).toBe('WEBHOOK_SECRET_PAYMENT_RECEIVED')
    const config = configFromEnv({ ...env, WEBHOOK_SECRET_PAYMENT_RECEIVED: vector.secret })
    expect(config.webhookSecrets).toEqual({ 'payment-received': vector.secret })
    expect(() => configFromEnv({ ...env, WEBHOOK_SECRET_MODERATION: 'short' })).toThrow(
      /WEBHOOK_SECRET_MODERATION: a webhook secret is "whsec_"/,
    )
  })

  it('a webhook without one: the development secret in development, refused outside it', () => {
    expect(webhookSecretOf({ development: true }, 'moderation')).toEqual({
      secret: developmentWebhookSecret('moderation'),
      developmentDefault: true,
    })
    expect(() => webhookSecretOf({ development: false }, 'moderation')).toThrow(
      'webhook moderation has no secret: set WEBHOOK_SECRET_MODERATION',
    )
    expect(
      webhookSecretOf({ webhookSecrets: { moderation: vector.secret } }, 'moderation'),
    ).toEqual({ secret: vector.secret, developmentDefault: false })
  })
})
