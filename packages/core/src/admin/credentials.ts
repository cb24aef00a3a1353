import { createHash, timingSafeEqual } from 'node:crypto'

/** An API key: a name (recorded as who acted) and its secret. */
export interface ApiKey {
  name: string
  secret: string
}

/** Reads `name:secret,name:secret` (e.g. `ADMIN_API_KEYS`). */
export function parseApiKeys(text: string | undefined): ApiKey[] {
  return (text ?? '')
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf(':')
      if (at < 1 || at === pair.length - 1)
        throw new Error('API keys are name:secret pairs, separated by commas')
      return { name: pair.slice(0, at), secret: pair.slice(at + 1) }
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
