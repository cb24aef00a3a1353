import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { ApiKey } from './credentials.ts'

/**
 * Browser sessions for the admin API and the dashboard: signing in with an API key gives an
 * HttpOnly cookie holding `<name>.<expiresAt>.<mac>`, MACed with a digest of that key's secret.
 * Nothing is stored: a session ends when it expires, when the browser drops the cookie (sign-out),
 * or for every session of a key at once when that key is removed or changed.
 */
export const sessionCookieName = 'ed_admin_session'

function mac(key: ApiKey, payload: string): Buffer {
  const secretDigest = createHash('sha256').update(key.secret).digest()
  return createHmac('sha256', secretDigest).update(payload).digest()
}

export interface Session {
  key: ApiKey
  expiresAt: Date
}

export function issueSession(key: ApiKey, ttlMs: number, now = Date.now()) {
  const payload = `${Buffer.from(key.name).toString('base64url')}.${now + ttlMs}`
  return {
    token: `${payload}.${mac(key, payload).toString('base64url')}`,
    expiresAt: new Date(now + ttlMs),
  }
}

/** The session a token proves, or null: unknown key, forged or changed, or expired. */
export function verifySession(
  keys: readonly ApiKey[],
  token: string | undefined,
  now = Date.now(),
): Session | null {
  const [name64, expires, given] = token?.split('.') ?? []
  if (!name64 || !expires || !given) return null
  const name = Buffer.from(name64, 'base64url').toString()
  const key = keys.find((k) => k.name === name)
  const expiresAt = Number(expires)
  if (!key || !Number.isInteger(expiresAt) || expiresAt <= now) return null
  const expected = mac(key, `${name64}.${expires}`)
  const presented = Buffer.from(given, 'base64url')
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return null
  return { key, expiresAt: new Date(expiresAt) }
}

/** One cookie's value from a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const at = part.indexOf('=')
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim()
  }
  return undefined
}

/** The `Set-Cookie` value: the token, or (without one) a cookie that expires at once. */
export function sessionCookie(token?: string, maxAgeSeconds = 0): string {
  return `${sessionCookieName}=${token ?? ''}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${token ? maxAgeSeconds : 0}`
}
