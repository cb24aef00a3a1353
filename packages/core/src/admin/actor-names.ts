import type { Logger } from 'pino'

/**
 * Display names of actors, from the service that knows them (`AdminServerOptions.actorNames`):
 * given distinct actors as recorded, the names it has, by actor. An actor missing from the map
 * shows as recorded.
 */
export type ActorNames = (actors: string[]) => Promise<Map<string, string>>

/** Bounds of the lookups. */
export interface ActorNameOptions {
  /** How long a name (or the lack of one) is kept. @default 30_000 */
  ttlMs?: number
  /** How long a page waits for names before it shows the actors as recorded. @default 1_000 */
  timeoutMs?: number
  /** Most actors asked in one lookup (a page of 500 rows may name 500). @default 200 */
  maxActors?: number
  /** Most actors kept (the oldest are forgotten first). @default 10_000 */
  maxCached?: number
}

type Cached = { name: string | null; until: number }

/**
 * Looks names up for the pages: each page asks once for the actors not known yet (deduplicated,
 * at most `maxActors`), and answers within `timeoutMs` with what it has. A lookup that throws is
 * logged and its actors show as recorded until `ttlMs` passes; one that answers late still fills
 * the cache for the next page. An actor already being looked up is not asked again meanwhile.
 */
export function actorNameCache(
  lookup: ActorNames,
  logger: Logger,
  options: ActorNameOptions = {},
  now: () => number = Date.now,
) {
  const ttlMs = options.ttlMs ?? 30_000
  const timeoutMs = options.timeoutMs ?? 1_000
  const maxActors = options.maxActors ?? 200
  const maxCached = options.maxCached ?? 10_000
  const cache = new Map<string, Cached>()
  const inFlight = new Map<string, Promise<void>>()

  const remember = (actor: string, name: string | null) => {
    cache.delete(actor) // re-inserted last: the Map's order is the order of age
    cache.set(actor, { name, until: now() + ttlMs })
    for (const oldest of cache.keys()) {
      if (cache.size <= maxCached) break
      cache.delete(oldest)
    }
  }

  const ask = (actors: string[]): Promise<void> => {
    // Started on the next tick, so the actors are marked in flight before it can settle.
    const asked = Promise.resolve().then(async () => {
      try {
        const names = await lookup(actors)
        for (const actor of actors) {
          const name = names.get(actor)
          remember(actor, typeof name === 'string' && name !== '' ? name : null)
        }
      } catch (error) {
        logger.warn(
          { err: error, actors: actors.length },
          'actor names: the lookup failed; actors show as recorded',
        )
        for (const actor of actors) remember(actor, null)
      } finally {
        for (const actor of actors) inFlight.delete(actor)
      }
    })
    for (const actor of actors) inFlight.set(actor, asked)
    return asked
  }

  const known = (actors: Iterable<string>) => {
    const names = new Map<string, string>()
    for (const actor of actors) {
      const name = cache.get(actor)?.name
      if (name) names.set(actor, name)
    }
    return names
  }

  return {
    /** The names of `actors` that are known within the timeout. Never rejects. */
    async namesOf(actors: Iterable<string>): Promise<Map<string, string>> {
      const distinct = [...new Set(actors)].slice(0, maxActors)
      const at = now()
      const missing = distinct.filter((a) => !((cache.get(a)?.until ?? 0) > at))
      const waits = new Set(missing.flatMap((a) => (inFlight.has(a) ? [inFlight.get(a)!] : [])))
      const toAsk = missing.filter((a) => !inFlight.has(a))
      if (toAsk.length > 0) waits.add(ask(toAsk))
      if (waits.size > 0) {
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            logger.warn(
              { actors: missing.length, timeoutMs },
              'actor names: the lookup is slow; this page shows actors as recorded',
            )
            resolve()
          }, timeoutMs)
        })
        await Promise.race([Promise.all(waits), late])
        clearTimeout(timer)
      }
      return known(distinct)
    },
  }
}

export type ActorNameCache = ReturnType<typeof actorNameCache>

/**
 * `rows` with `actorName` where the actor (recorded as text) has one: one lookup for the page.
 * Without a cache (no `actorNames` option) the rows as they are.
 */
export async function withActorNames<Row extends { actor: unknown }>(
  rows: Row[],
  names: ActorNameCache | undefined,
): Promise<(Row & { actorName?: string })[]> {
  if (!names) return rows
  const textOf = (row: Row) => (typeof row.actor === 'string' ? row.actor : undefined)
  const found = await names.namesOf(rows.flatMap((row) => textOf(row) ?? []))
  return rows.map((row) => {
    const name = found.get(textOf(row) ?? '')
    return name === undefined ? row : { ...row, actorName: name }
  })
}
