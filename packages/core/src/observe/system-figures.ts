import { pending } from '../archive/layout.ts'
import { consumerGroupOf } from '../consume/group-names.ts'
import type { AdminSource } from '../open-event-store.ts'

/**
 * Figures of the whole system, the same from every process that reads them: each consumer
 * group's durable (pending, in flight), the outbox (events not yet published), the DLQ's open
 * entries and, with an archive, how far the archive is behind.
 */
export interface SystemFigures {
  consumerGroups: { consumerGroup: string; pending: number; inFlight: number }[]
  /** Events recorded but not yet published, counted up to `outboxCountLimit`. */
  outboxUnpublished: number
  /**
   * DLQ entries still open (not redriven, discarded or resolved), for every consumer group of the
   * stream (0 when it has none) and `other` for groups the stream no longer has; counted up to
   * `dlqCountLimit` in all.
   */
  dlqOpen: { consumerGroup: string; open: number }[]
  /**
   * Seconds since the oldest event not yet copied to S3 was recorded; 0 when none waits.
   * Absent when the figures were asked without `archiving`.
   */
  archiveLagSeconds?: number
}

/** Where the figures come from: an event store's tools (`openEventStore`) or a running service. */
export type SystemSource = Pick<AdminSource, 'store' | 'consumerGroups'>

/** The outbox count stops here: past it, the number only says "a lot", and costs more to read. */
export const outboxCountLimit = 100_000

/**
 * The open DLQ entries are counted up to this, in all: past it the number only says "a lot".
 * FerretDB decodes each entry it counts (about 150 µs with a 1 KB message: 0.15 s at this
 * limit, 1.5 s at 10,000, measured on the test server).
 */
export const dlqCountLimit = 1_000

/**
 * The archive lag reads at most this many waiting events: the archiver's default batch, so a
 * backlog past it means the archiver is behind anyway.
 */
export const archiveLagReadLimit = 1_000

/** The label of open DLQ entries whose consumer group the stream does not have (any more). */
export const otherConsumerGroup = 'other'

/** How long figures are reused. @default 5 s: scrapes closer together than that cost nothing. */
export const systemFiguresCacheMs = 5_000

export interface SystemFiguresOptions {
  /** How long figures are reused. @default `systemFiguresCacheMs` */
  cacheMs?: number
  /**
   * The services archive to S3, so events wait for an archiver: read the archive lag. Without an
   * archive every event waits forever and the lag would only count the store's age.
   * @default false
   */
  archiving?: boolean
}

/**
 * Reads the figures at most once per `cacheMs`, and once for concurrent callers: one JetStream
 * consumer list and three MongoDB reads (four with `archiving`), each bounded by a limit or by
 * what is waiting (see each read below).
 */
export function systemFigures(
  source: SystemSource,
  options: SystemFiguresOptions = {},
): () => Promise<SystemFigures> {
  const cacheMs = options.cacheMs ?? systemFiguresCacheMs
  let last: { at: number; figures: Promise<SystemFigures> } | undefined
  const read = async (): Promise<SystemFigures> => {
    const [groups, outboxUnpublished, openByGroup, archiveLagSeconds] = await Promise.all([
      source.consumerGroups(),
      // Reads only the outbox, which empties as events are published: cheap on FerretDB too
      // (which scans what it reads).
      source.store.outbox.countDocuments(
        { publishedAt: { $exists: false } },
        { limit: outboxCountLimit },
      ),
      openDlqEntries(source),
      options.archiving ? archiveLag(source) : undefined,
    ])
    const consumerGroups = groups.map((group) => ({
      consumerGroup: consumerGroupOf(group.durable),
      pending: group.pending,
      inFlight: group.inFlight,
    }))
    return {
      consumerGroups,
      outboxUnpublished,
      dlqOpen: openByConsumerGroup(
        consumerGroups.map((group) => group.consumerGroup),
        openByGroup,
      ),
      ...(archiveLagSeconds === undefined ? {} : { archiveLagSeconds }),
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

/**
 * Open entries by stored consumer group, up to `dlqCountLimit` in all. MongoDB: an index scan of
 * `status_1_consumerGroup_1` (declared in `dlqIndexes`) that reads at most the limit's keys.
 * FerretDB: PostgreSQL filters the equality over the dlq table (5 ms with 5,000 closed entries
 * and none open), then FerretDB decodes each open entry to group it (bounded by the limit).
 */
function openDlqEntries(source: SystemSource): Promise<{ _id: unknown; open: number }[]> {
  return source.store.dlq
    .aggregate<{ _id: unknown; open: number }>([
      { $match: { status: 'open' } },
      { $limit: dlqCountLimit },
      { $group: { _id: '$consumerGroup', open: { $sum: 1 } } },
    ])
    .toArray()
}

/**
 * One figure per consumer group the stream has (the code's, provisioned by its services) and the
 * rest under `other`: a label value is never a string read from MongoDB.
 */
export function openByConsumerGroup(
  known: readonly string[],
  stored: readonly { _id: unknown; open: number }[],
): SystemFigures['dlqOpen'] {
  const counts = new Map<string, number>(
    known.filter((group) => group !== otherConsumerGroup).map((group) => [group, 0]),
  )
  let other = 0
  for (const { _id, open } of stored) {
    if (typeof _id === 'string' && counts.has(_id)) counts.set(_id, counts.get(_id)! + open)
    else other += open
  }
  const figures = [...counts].map(([consumerGroup, open]) => ({ consumerGroup, open }))
  return other > 0 ? [...figures, { consumerGroup: otherConsumerGroup, open: other }] : figures
}

/**
 * The age of the oldest waiting event among the first `archiveLagReadLimit` found: exact while
 * no more wait; past that, the oldest of those first found, in the order the server keeps them
 * (insertion order, close to `createdAt`): it still grows while they wait. Not sorted: FerretDB
 * sorts after decoding every waiting event (measured: 2.1 s with 10,000 waiting, and growing
 * with the backlog, just when the alert matters). Unsorted, FerretDB filters the equality in
 * PostgreSQL (about 1 µs per stored event: 30 ms at 20,000 with none waiting) and decodes at
 * most the limit (170 ms with 10,000 waiting); MongoDB scans `archived_1` (the archiver's index,
 * `archiverIndexes`) for at most the limit's keys and documents.
 */
async function archiveLag(source: SystemSource): Promise<number> {
  const waiting = await source.store.events
    .find(pending, { projection: { _id: 0, createdAt: 1 } })
    .limit(archiveLagReadLimit)
    .toArray()
  if (waiting.length === 0) return 0
  const oldest = Math.min(...waiting.map((event) => event.createdAt.getTime()))
  // Another process's clock may be ahead of this one's: never a negative lag.
  return Math.max(0, (Date.now() - oldest) / 1000)
}
