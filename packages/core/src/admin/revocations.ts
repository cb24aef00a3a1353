import type { Collection, Db } from 'mongodb'
import { ErrorCodes, EventDrivenError } from '../errors.ts'
import { isDuplicateKey } from '../store/insert-new.ts'
import { currentFormat } from '../version/formats.ts'

/** One signed-out session: kept until the session would have expired anyway. */
export interface SessionRevocation {
  /** The session's id. */
  _id: string
  /** The format it was written in (`version/formats.ts`); absent before formats: 1. */
  format?: number
  /** The key name that signed out. */
  name: string
  revokedAt: Date
  expiresAt: Date
}

/** The collection in the event store's database that every admin server of it shares. */
export const revocationsCollection = 'admin_session_revocations'

/** The revocation check could not be made: the session is refused (503), never admitted. */
export class RevocationUnavailable extends EventDrivenError {
  override name = 'RevocationUnavailable'
  readonly code = ErrorCodes.RevocationUnavailable
}

/** Sessions signed out, shared by every admin server over the same database. */
export interface SessionRevocations {
  /** Whether the session was signed out. Throws `RevocationUnavailable` when it cannot tell. */
  isRevoked(sessionId: string): Promise<boolean>
  /** Records a sign-out; signing out twice is fine. Throws `RevocationUnavailable` on failure. */
  revoke(session: { id: string; name: string; expiresAt: Date }): Promise<void>
}

export interface RevocationOptions {
  /** Longest wait for the database before a check gives up (refusing). Default 5 s. */
  timeoutMs?: number
  /** How often (at most) a sign-out also removes the revocations of expired sessions. Default 10 min. */
  sweepEveryMs?: number
  /** Told when a sweep fails; the next sign-out tries again. */
  onSweepError?: (error: unknown) => void
}

/** `promise`, or `RevocationUnavailable` when it fails or takes longer than `ms`. */
async function inTime<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, late])
  } catch (error) {
    throw new RevocationUnavailable(`${what}: ${(error as Error).message}`, { cause: error })
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Revocations in `admin_session_revocations`: an insert per sign-out (`_id` = the session id,
 * so a repeat is a duplicate, not a second write) and a read by `_id` per request. The collection
 * holds only sessions signed out and not yet expired, so the read stays cheap on servers that
 * scan (FerretDB); expired ones are deleted now and then by a sign-out, which works where there
 * is no TTL index.
 */
export function sessionRevocations(db: Db, options: RevocationOptions = {}): SessionRevocations {
  const collection: Collection<SessionRevocation> = db.collection(revocationsCollection)
  const timeoutMs = options.timeoutMs ?? 5_000
  const sweepEveryMs = options.sweepEveryMs ?? 10 * 60_000
  let lastSweep = Number.NEGATIVE_INFINITY

  const sweep = () => {
    if (Date.now() - lastSweep < sweepEveryMs) return
    lastSweep = Date.now()
    collection
      .deleteMany({ expiresAt: { $lte: new Date() } })
      .catch((error: unknown) => options.onSweepError?.(error))
  }

  return {
    async isRevoked(sessionId) {
      const found = await inTime(
        collection.findOne({ _id: sessionId }, { projection: { _id: 1 } }),
        timeoutMs,
        'cannot check whether the session was signed out',
      )
      return found !== null
    },
    async revoke(session) {
      const entry = {
        _id: session.id,
        format: currentFormat,
        name: session.name,
        revokedAt: new Date(),
        expiresAt: session.expiresAt,
      }
      const inserted = collection.insertOne(entry).catch((error: unknown) => {
        if (!isDuplicateKey(error)) throw error
      })
      await inTime(inserted, timeoutMs, 'cannot record the sign-out')
      sweep()
    },
  }
}
