import { createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto'

/**
 * Requests between the gateway and the services carry who they act for (the actor the gateway
 * authenticated from a login token). Anyone who may publish on NATS could write any actor into a
 * request, so the sender signs each one: an HMAC over the subject, the time it was sent and the
 * whole body (input, actor, operation id), with a key derived from the system's signing secret
 * (the one events are signed with). A service refuses a request whose signature is missing,
 * wrong, or older than the freshness window, before any of its code runs.
 */

export const requestSignatureHeader = 'Rpc-Signature'

const scheme = 'v1'

/** How far a request's time may be from the receiver's clock: replays older than this fail. */
export const requestFreshnessMs = 60_000

/** Why a request's signature did not check out (or that it did). */
export type RequestCheck = 'valid' | 'missing' | 'invalid' | 'stale'

export interface RequestSigner {
  /** The `Rpc-Signature` header value for a request on `subject` with this body. */
  sign(subject: string, body: string, now?: number): string
  check(
    subject: string,
    signature: string | undefined,
    body: Uint8Array,
    now?: number,
  ): RequestCheck
}

/**
 * Signs and checks requests with a key derived from the system's secret, so a request signature
 * can never be mistaken for an event signature made with the same secret.
 */
export function requestSigner(systemSecret: Buffer): RequestSigner {
  const key: KeyObject = createSecretKey(
    Buffer.from(hkdfSync('sha256', systemSecret, '', 'event-driven rpc request v1', 32)),
  )
  // Subjects hold no CR, and the time is digits: the text cannot be read two ways.
  const mac = (subject: string, issuedAt: string, body: Uint8Array | string) =>
    createHmac('sha256', key).update(`${scheme}\r${subject}\r${issuedAt}\r`).update(body).digest()
  return {
    sign(subject, body, now = Date.now()) {
      const issuedAt = String(now)
      return `${scheme}.${issuedAt}.${mac(subject, issuedAt, body).toString('base64url')}`
    },
    check(subject, signature, body, now = Date.now()) {
      if (!signature) return 'missing'
      const [version, issuedAt, encoded] = signature.split('.')
      if (version !== scheme || !issuedAt || !/^\d{1,15}$/.test(issuedAt) || !encoded)
        return 'invalid'
      const given = Buffer.from(encoded, 'base64url')
      const expected = mac(subject, issuedAt, body)
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid'
      return Math.abs(now - Number(issuedAt)) > requestFreshnessMs ? 'stale' : 'valid'
    },
  }
}

/** What a refused request's sender is told (and the service's log says). */
export function requestRefusal(check: Exclude<RequestCheck, 'valid'>): string {
  switch (check) {
    case 'missing':
      return `the request has no ${requestSignatureHeader}: requests must come from the gateway or a service of this system`
    case 'invalid':
      return `the request's ${requestSignatureHeader} does not match its content: it was changed on the way, or signed with another key`
    case 'stale':
      return `the request was signed more than ${requestFreshnessMs / 1000} s ago (or the clocks disagree): a replayed request is refused`
  }
}
