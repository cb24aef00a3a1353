import { consumerGroupOf } from '../consume/group-names.ts'
import type { AdminSource } from '../open-event-store.ts'

/**
 * Figures of the whole system, the same from every process that reads them: each consumer
 * group's durable (pending, in flight) and the outbox (events not yet published).
 */
export interface SystemFigures {
  consumerGroups: { consumerGroup: string; pending: number; inFlight: number }[]
  /** Events recorded but not yet published, counted up to `outboxCountLimit`. */
  outboxUnpublished: number
}

/** Where the figures come from: an event store's tools (`openEventStore`) or a running service. */
export type SystemSource = Pick<AdminSource, 'store' | 'consumerGroups'>

/** The outbox count stops here: past it, the number only says "a lot", and costs more to read. */
export const outboxCountLimit = 100_000

/** How long figures are reused. @default 5 s: scrapes closer together than that cost nothing. */
export const systemFiguresCacheMs = 5_000

/**
 * Reads the figures at most once per `cacheMs`, and once for concurrent callers: one JetStream
 * consumer list and one MongoDB count, capped. The count reads only the outbox, which empties as
 * events are published, so it stays cheap on FerretDB too (which scans what it reads).
 */
export function systemFigures(
  source: SystemSource,
  cacheMs: number = systemFiguresCacheMs,
): () => Promise<SystemFigures> {
  let last: { at: number; figures: Promise<SystemFigures> } | undefined
  const read = async (): Promise<SystemFigures> => {
    const [groups, outboxUnpublished] = await Promise.all([
      source.consumerGroups(),
      source.store.outbox.countDocuments(
        { publishedAt: { $exists: false } },
        { limit: outboxCountLimit },
      ),
    ])
    return {
      consumerGroups: groups.map((group) => ({
        consumerGroup: consumerGroupOf(group.durable),
        pending: group.pending,
        inFlight: group.inFlight,
      })),
      outboxUnpublished,
    }
  }
  return () => {
    const now = Date.now()
    if (last && now - last.at < cacheMs) return last.figures
    const figures = read()
    const entry = { at: now, figures }
    last = entry
    // A failed read is not reused: the next scrape tries again.
    figures.catch(() => {
      if (last === entry) last = undefined
    })
    return figures
  }
}
