import type { EventStore, FlowEdgeKind, FlowStatRecord } from '../../store/event-store.ts'
import { bucketCount } from './histogram.ts'
import type { PeriodRange } from './periods.ts'

/** One edge's sums over a window: what every instance counted in every period read. */
export interface EdgeTotals {
  kind: FlowEdgeKind
  from: string
  to: string
  count: number
  failures: number
  /** Step times per bucket, every bucket (`bucketCount`). */
  buckets: number[]
}

/** The fields a read needs: a document's counters and its edge. */
type FlowCounters = Pick<FlowStatRecord, 'kind' | 'from' | 'to' | 'count' | 'failures' | 'buckets'>

const edgeKinds: ReadonlySet<string> = new Set<FlowEdgeKind>(['publishes', 'emits', 'delivers'])

/** A count as stored: a number, or nothing (a document from elsewhere is not trusted). */
const counted = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : 0

/**
 * Adds up documents by edge, in JavaScript: FerretDB v1's `$group` computes only its first
 * accumulator, and a `find` of a resolution's documents is the read it filters inside PostgreSQL.
 * Documents of an unknown kind are left out.
 */
export function sumEdges(documents: Iterable<Partial<FlowCounters>>): EdgeTotals[] {
  const edges = new Map<string, EdgeTotals>()
  for (const doc of documents) {
    if (typeof doc.kind !== 'string' || !edgeKinds.has(doc.kind)) continue
    const from = String(doc.from)
    const to = String(doc.to)
    const key = `${doc.kind}\n${from}\n${to}`
    let edge = edges.get(key)
    if (!edge) {
      const buckets = Array.from({ length: bucketCount }, () => 0)
      edge = { kind: doc.kind, from, to, count: 0, failures: 0, buckets }
      edges.set(key, edge)
    }
    edge.count += counted(doc.count)
    edge.failures += counted(doc.failures)
    if (!Array.isArray(doc.buckets)) continue
    const used = Math.min(doc.buckets.length, bucketCount)
    for (let i = 0; i < used; i++) edge.buckets[i]! += counted(doc.buckets[i])
  }
  return [...edges.values()]
}

/** Per query: a window's documents come back in a few replies, not FerretDB's 101 at a time. */
const batchSize = 10_000

/**
 * Every edge's sums over the ranges of a window's read: one `find` per range (an equality on the
 * resolution, which FerretDB filters inside PostgreSQL, and the range on `periodAt`), with only
 * the counters fetched, summed here.
 */
export async function readEdgeTotals(
  store: EventStore,
  ranges: readonly PeriodRange[],
): Promise<EdgeTotals[]> {
  const reads = ranges.map(({ resolution, from, before }) =>
    store.flowStats
      .find<Partial<FlowCounters>>(
        { resolution, periodAt: before ? { $gte: from, $lt: before } : { $gte: from } },
        {
          projection: { _id: 0, kind: 1, from: 1, to: 1, count: 1, failures: 1, buckets: 1 },
          batchSize,
        },
      )
      .toArray(),
  )
  return sumEdges((await Promise.all(reads)).flat())
}
