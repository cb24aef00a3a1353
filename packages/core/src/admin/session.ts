import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { roleOf, type ApiKey, type ApiKeyRole } from './credentials.ts'

/**
 * Browser sessions for the admin API and the dashboard: signing in with an API key gives an
 * HttpOnly cookie holding `<name>.<role>.<id>.<expiresAt>.<mac>`, MACed with a digest of that
 * key's secret. The token proves itself; sign-out records its random id as revoked (see
 * `revocations.ts`), which every request checks. A session also ends when it expires, and every
 * session of a key ends when the key is removed, changed or given another role.
 */
export const sessionCookieName = 'ed_admin_session'

function mac(key: ApiKey, payload: string): Buffer {
  const secretDigest = createHash('sha256').update(key.secret).digest()
  return createHmac('sha256', secretDigest).update(payload).digest()
}

/** A session a token proves (its revocation is checked apart). */
export interface Session {
  key: ApiKey
  role: ApiKeyRole
  /** Random, 24 characters of base64url: what sign-out revokes. */
  id: string
  expiresAt: Date
}

/** A new session of `key`: the cookie's token and when it expires. */
export function issueSession(key: ApiKey, ttlMs: number, now = Date.now()) {
  const id = randomBytes(18).toString('base64url')
  const payload = [Buffer.from(key.name).toString('base64url'), roleOf(key), id, now + ttlMs]
    .map(String)
    .join('.')
  return {
    token: `${payload}.${mac(key, payload).toString('base64url')}`,
    id,
    expiresAt: new Date(now + ttlMs),
  }
}

/**
 * The session a token proves, or null: unknown key, forged or changed, expired, or of a role
 * the key no longer has. Not whether it was signed out: that needs the database.
 */
export function verifySession(
  keys: readonly ApiKey[],
  token: string | undefined,
  now = Date.now(),
): Session | null {
  const parts = token?.split('.') ?? []
  if (parts.length !== 5) return null
  const [name64, role, id, expires, given] = parts as [string, string, string, string, string]
  const expiresAt = Number(expires)
  if (!id || !Number.isInteger(expiresAt) || expiresAt <= now) return null
  const name = Buffer.from(name64, 'base64url').toString()
  const presented = Buffer.from(given, 'base64url')
  const payload = `${name64}.${role}.${id}.${expires}`
  // Two keys may share a name (a secret being rotated): the one that MACs it is the one.
  for (const key of keys) {
    if (key.name !== name || roleOf(key) !== role) continue
    const expected = mac(key, payload)
    if (presented.length === expected.length && timingSafeEqual(presented, expected))
      return { key, role: roleOf(key), id, expiresAt: new Date(expiresAt) }
  }
  return null
}

/** One cookie's value from a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const at = part.indexOf('=')
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim()
  }
  return undefined
}

/**
 * The `Set-Cookie` value: the token, or (without one) a cookie that expires at once. `secure`
 * adds `Secure`, so the browser sends it back over TLS only.
 */
export function sessionCookie(
  token?: string,
  maxAgeSeconds = 0,
  { secure = false }: { secure?: boolean } = {},
): string {
  return `${sessionCookieName}=${token ?? ''}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${token ? maxAgeSeconds : 0}${secure ? '; Secure' : ''}`
}
