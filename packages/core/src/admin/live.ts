import type { EventStore } from '../store/event-store.ts'
import type { Logger } from 'pino'
import { BadRequest, checkedId, onlyFields } from './checks.ts'
import { revocationsCollection } from './revocations.ts'

/** Bounds of the live updates (`GET /api/live`); the defaults are written beside each. */
export interface LiveOptions {
  /**
   * How often the one shared poll reads what changed, while anyone listens. Default 2 s: one open
   * operation page costs what its own polling cost before, and more tabs cost nothing more.
   */
  intervalMs?: number
  /** Most distinct operations watched at once by this process. Default 200. */
  maxOperations?: number
  /** Most open streams on this process. Default 500. */
  maxConnections?: number
}

/** What a stream listens to: the DLQ, one operation's chain, or both. */
export interface LiveTopics {
  dlq: boolean
  operation?: string
}

/** One open stream: told the notices of its topics, ended when its session is signed out. */
export interface LiveListener extends LiveTopics {
  sessionId?: string
  notify(notice: string): void
  /** Its topics are in the poll's baseline: from now on every change is noticed. */
  ready(): void
  end(reason: string): void
}

/** The query of `GET /api/live`, checked as every other route checks its ids. */
export function liveTopics(query: Record<string, string>): LiveTopics {
  onlyFields(query, ['operation', 'dlq'], 'query parameter')
  const dlq = query.dlq
  if (dlq !== undefined && dlq !== 'true' && dlq !== 'false')
    throw new BadRequest('dlq must be true or false')
  const operation = query.operation
  if (operation !== undefined) checkedId(operation)
  if (dlq !== 'true' && operation === undefined)
    throw new BadRequest('listen to something: ?dlq=true and/or ?operation=<id>')
  return { dlq: dlq === 'true', ...(operation === undefined ? {} : { operation }) }
}

/** The collections whose records make up an operation's chain (`operationChain`). */
const chainParts = ['events', 'outbox', 'processed', 'failures', 'dlq'] as const

/**
 * Live updates without change streams (FerretDB has none): ONE poll per admin process, run only
 * while a stream is open, reads what changed (the DLQ's sizes, the watched operations' record
 * counts and status, the streaming sessions' sign-outs) and fans notices out to every listener.
 * Its cost is a fixed number of reads per interval, whatever the number of open tabs.
 */
export function liveUpdates(store: EventStore, logger: Logger, options: LiveOptions = {}) {
  const intervalMs = options.intervalMs ?? 2_000
  const maxOperations = options.maxOperations ?? 200
  const maxConnections = options.maxConnections ?? 500
  const listeners = new Set<LiveListener>()
  const seen = new Map<string, string>()
  let timer: NodeJS.Timeout | undefined
  let polling = false
  /** Listeners whose topics no poll has read yet. */
  const fresh = new Set<LiveListener>()

  const watched = () => new Set([...listeners].flatMap((l) => (l.operation ? [l.operation] : [])))

  const chainSignatures = async (ids: string[]) => {
    const counts = new Map<string, number[]>(ids.map((id) => [id, []]))
    const countBy = async (part: number, rows: Promise<{ _id: string; n: number }[]>) => {
      for (const row of await rows) counts.get(row._id)![part] = row.n
    }
    const group = { $group: { _id: '$operationId', n: { $sum: 1 } } }
    // One operation (the usual case) is an equality, which FerretDB filters inside PostgreSQL;
    // `$in` makes it fetch every document first.
    const anyOf = ids.length === 1 ? ids[0]! : { $in: ids }
    const match = { $match: { operationId: anyOf } }
    const [operations] = await Promise.all([
      store.operations.find({ _id: anyOf }, { projection: { status: 1 } }).toArray(),
      ...chainParts.map((name, i) =>
        countBy(i, store[name].aggregate<{ _id: string; n: number }>([match, group]).toArray()),
      ),
      // An action changes an entry's status, not the number of entries.
      countBy(
        chainParts.length,
        store.dlq
          .aggregate<{ _id: string; n: number }>([
            { $match: { operationId: anyOf, status: 'open' } },
            group,
          ])
          .toArray(),
      ),
    ])
    const status = new Map(operations.map((o) => [o._id, o.status]))
    return ids.map((id) => [id, JSON.stringify([status.get(id), counts.get(id)])] as const)
  }

  const poll = async () => {
    const covered = [...listeners]
    const ids = [...watched()]
    const wantsDlq = [...listeners].some((l) => l.dlq)
    const sessions = [...new Set([...listeners].flatMap((l) => l.sessionId ?? []))]
    const [dlq, chains, revoked] = await Promise.all([
      wantsDlq
        ? Promise.all([store.dlq.countDocuments({}), store.dlq.countDocuments({ status: 'open' })])
        : undefined,
      ids.length > 0 ? chainSignatures(ids) : [],
      sessions.length > 0
        ? store.db
            .collection<{ _id: string }>(revocationsCollection)
            .find({ _id: { $in: sessions } }, { projection: { _id: 1 } })
            .toArray()
        : [],
    ])
    const changed = new Set<string>()
    const compare = (topic: string, signature: string) => {
      const before = seen.get(topic)
      seen.set(topic, signature)
      // The first reading is the baseline: a new listener just fetched the data itself.
      if (before !== undefined && before !== signature) changed.add(topic)
    }
    if (dlq) compare('dlq', JSON.stringify(dlq))
    for (const [id, signature] of chains) compare(`operation:${id}`, signature)
    const signedOut = new Set(revoked.map((r) => r._id))
    for (const listener of listeners) {
      if (listener.sessionId && signedOut.has(listener.sessionId)) {
        listener.end('signed out')
        continue
      }
      if (listener.dlq && changed.has('dlq')) listener.notify('dlq')
      if (listener.operation && changed.has(`operation:${listener.operation}`))
        listener.notify(`operation:${listener.operation}`)
    }
    for (const listener of covered) if (fresh.delete(listener)) listener.ready()
    // Forget what no one watches any more, so a later listener starts from a fresh baseline.
    const live = watched()
    for (const topic of seen.keys()) {
      if (topic === 'dlq' ? !wantsDlq : !live.has(topic.slice('operation:'.length)))
        seen.delete(topic)
    }
  }

  const schedule = () => {
    if (timer || listeners.size === 0) return
    timer = setTimeout(() => {
      timer = undefined
      if (polling || listeners.size === 0) return
      polling = true
      poll()
        // Streams go on; the next round reads again.
        .catch((error: unknown) =>
          logger.warn({ err: error }, 'live updates: a poll failed; polling again'),
        )
        .finally(() => {
          polling = false
          schedule()
        })
    }, intervalMs)
    timer.unref()
  }

  return {
    /** Adds a listener, or says why not (the caps); the function returned removes it. */
    join(listener: LiveListener): (() => void) | { refused: string } {
      if (listeners.size >= maxConnections)
        return { refused: `too many live streams on this admin server (${maxConnections})` }
      if (listener.operation && !watched().has(listener.operation))
        if (watched().size >= maxOperations)
          return {
            refused: `too many operations watched live on this admin server (${maxOperations})`,
          }
      listeners.add(listener)
      fresh.add(listener)
      schedule()
      return () => {
        listeners.delete(listener)
        fresh.delete(listener)
        if (listeners.size === 0 && timer) {
          clearTimeout(timer)
          timer = undefined
          seen.clear()
        }
      }
    },
    /** Ends the streams of a session signed out here (other processes see it at their next poll). */
    signedOut(sessionId: string) {
      for (const listener of listeners)
        if (listener.sessionId === sessionId) listener.end('signed out')
    },
    get size() {
      return listeners.size
    },
  }
}

export type LiveUpdates = ReturnType<typeof liveUpdates>
