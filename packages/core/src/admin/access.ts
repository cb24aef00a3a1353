import type { IncomingMessage } from 'node:http'
import type { Logger } from 'pino'
import { findApiKey, roleOf, type ApiKey, type ApiKeyRole } from './credentials.ts'
import { RevocationUnavailable, type SessionRevocations } from './revocations.ts'
import { readCookie, sessionCookieName, verifySession, type Session } from './session.ts'
import { createThrottle } from './throttle.ts'

/** Who is calling: a key's name and role, and the session when it came by cookie. */
export interface Caller {
  name: string
  role: ApiKeyRole
  session?: Session
}

/** Why a request is not admitted: the status, the answer's `error`, and for 429 when to retry. */
export interface Refusal {
  status: 401 | 429 | 503
  error: string
  retryAfterSeconds?: number
}

export const isRefusal = (value: Caller | ApiKey | Refusal): value is Refusal => 'status' in value

export interface AccessOptions {
  apiKeys: readonly ApiKey[]
  revocations: SessionRevocations
  /** Failed sign-ins or API keys per address (and per named key) that block it. */
  failureLimit: number
  /** How long the count runs, and so a block lasts at most. */
  failureWindowMs: number
  /** Most addresses counted at once. */
  maxTrackedAddresses: number
  clientAddress: (req: IncomingMessage) => string
  logger: Logger
}

const unauthorized: Refusal = { status: 401, error: 'unauthorized' }

/** The secret sent as `X-API-Key` or `Authorization: Bearer`; undefined when none is sent. */
function presentedKey(req: IncomingMessage): string | undefined {
  const header = req.headers['x-api-key']
  const apiKey = Array.isArray(header) ? header.join(', ') : header
  return apiKey || req.headers.authorization?.replace(/^Bearer\s+/i, '') || undefined
}

/**
 * Who may call, and how often they may guess: an API key (header) or a session cookie that is
 * neither forged, expired nor signed out. Failed sign-ins and wrong API keys are counted per
 * client address (and per key name when a sign-in names one): past the limit, further attempts
 * get 429 until the window ends, whatever they send, so a right guess looks like a wrong one.
 * A session cookie that fails is not counted: it is a 256-bit MAC, not a guess, and an expired
 * one is what a browser left open sends.
 */
export function createAccess(options: AccessOptions) {
  const { apiKeys, revocations, logger } = options
  const limits = { limit: options.failureLimit, windowMs: options.failureWindowMs }
  const byAddress = createThrottle({ ...limits, maxTracked: options.maxTrackedAddresses })
  // Only configured names are counted, so this map is as small as the key list.
  const names = new Set(apiKeys.map((key) => key.name))
  const byName = createThrottle({ ...limits, maxTracked: names.size + 1 })
  const counted = (name: string | undefined) =>
    name !== undefined && names.has(name) ? name : null

  const where = (req: IncomingMessage) => ({
    method: req.method,
    path: (req.url ?? '/').split('?')[0]?.slice(0, 300),
  })

  /** The 429 to answer while the address (or the named key) is blocked, logged; else null. */
  const throttled = (req: IncomingMessage, address: string, name?: string): Refusal | null => {
    const named = counted(name)
    const ms = Math.max(byAddress.blockedFor(address), named ? byName.blockedFor(named) : 0)
    if (ms === 0) return null
    const retryAfterSeconds = Math.ceil(ms / 1000)
    logger.warn(
      { ...where(req), address, keyName: named ?? undefined, retryAfterSeconds },
      'admin API credentials throttled',
    )
    return {
      status: 429,
      error: `too many failed sign-ins or API keys from this address${named ? ' or for this key name' : ''}: try again in ${retryAfterSeconds} s`,
      retryAfterSeconds,
    }
  }

  const failed = (req: IncomingMessage, address: string, name?: string): Refusal => {
    byAddress.fail(address)
    const named = counted(name)
    if (named) byName.fail(named)
    logger.warn(
      { ...where(req), address, keyName: named ?? undefined },
      'admin API credentials refused',
    )
    return unauthorized
  }

  return {
    /** The caller of a request, or why it is refused (401, 429, or 503 when a session cannot be checked). */
    async caller(req: IncomingMessage): Promise<Caller | Refusal> {
      const presented = presentedKey(req)
      if (presented !== undefined) {
        const address = options.clientAddress(req)
        const blocked = throttled(req, address)
        if (blocked) return blocked
        const key = findApiKey(apiKeys, presented)
        return key ? { name: key.name, role: roleOf(key) } : failed(req, address)
      }
      const session = verifySession(apiKeys, readCookie(req.headers.cookie, sessionCookieName))
      if (!session) return unauthorized
      try {
        if (await revocations.isRevoked(session.id)) {
          logger.warn(
            { ...where(req), keyName: session.key.name },
            'admin API session signed out: refused',
          )
          return unauthorized
        }
      } catch (error) {
        if (!(error instanceof RevocationUnavailable)) throw error
        // Fail closed: a session that cannot be checked may be one that was signed out.
        logger.error({ err: error, ...where(req) }, 'admin API session could not be checked')
        return {
          status: 503,
          error:
            'cannot check whether the session was signed out: the event store does not answer; try again',
        }
      }
      return { name: session.key.name, role: session.role, session }
    },

    /**
     * The key a sign-in proves, or why not. With `name`, the secret must be that key's, and
     * failures count against the name too (from any address).
     */
    signIn(req: IncomingMessage, secret: string | undefined, name?: string): ApiKey | Refusal {
      const address = options.clientAddress(req)
      const blocked = throttled(req, address, name)
      if (blocked) return blocked
      const key = findApiKey(apiKeys, secret)
      if (!key || (name !== undefined && key.name !== name)) return failed(req, address, name)
      return key
    },
  }
}
