import { createHash, timingSafeEqual } from 'node:crypto'

/** What a key may do: `read` lists and shows; `operate` also redrives, discards and resolves. */
export type ApiKeyRole = 'read' | 'operate'

/** An API key: a name (recorded as who acted), its secret and its role. */
export interface ApiKey {
  name: string
  secret: string
  /** Default `operate`. */
  role?: ApiKeyRole
}

const roles: readonly ApiKeyRole[] = ['read', 'operate']

/** A key's role: `operate` unless it says `read`. */
export const roleOf = (key: ApiKey): ApiKeyRole => key.role ?? 'operate'

/**
 * Reads `name:secret[:role],…` (e.g. `ADMIN_API_KEYS`). The name ends at the first `:`; the role
 * is the last segment only when there are three or more and it is exactly `read` or `operate`;
 * everything between is the secret, `:` included. So `ops:s3cr:et` is an operator with the
 * secret `s3cr:et`, `viewer:abc:read` a read-only key with the secret `abc`, and a secret that
 * itself ends in `:read` is written with its role after it: `ops:abc:read:operate`.
 */
export function parseApiKeys(text: string | undefined): ApiKey[] {
  return (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf(':')
      const last = entry.lastIndexOf(':')
      const tail = entry.slice(last + 1)
      const role = last > at && roles.find((r) => r === tail)
      const secret = role ? entry.slice(at + 1, last) : entry.slice(at + 1)
      if (at < 1 || secret === '')
        throw new Error(
          'API keys are name:secret or name:secret:role (role read or operate), separated by commas',
        )
      return { name: entry.slice(0, at), secret, role: role || 'operate' }
    })
}

const digest = (text: string) => createHash('sha256').update(text).digest()

/**
 * The key a presented secret belongs to, or null. Every key is compared, each in constant time
 * (over fixed-length digests), so timing tells nothing about how close a guess was.
 */
export function findApiKey(keys: readonly ApiKey[], presented: string | undefined): ApiKey | null {
  if (!presented) return null
  const given = digest(presented)
  let found: ApiKey | null = null
  for (const key of keys) if (timingSafeEqual(digest(key.secret), given)) found = key
  return found
}
