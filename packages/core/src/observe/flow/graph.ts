import { consumerGroupOf } from '../../consume/group-names.ts'
import type { AdminSource } from '../../open-event-store.ts'
import { filteredSubject } from '../../ordering/keyed-subjects.ts'
import type { FlowEdgeKind } from '../../store/event-store.ts'
import type { IndexDeclaration } from '../../store/indexes.ts'
import { percentile } from './histogram.ts'
import { flowReadPlan, minuteMs } from './periods.ts'
import { readEdgeTotals, type EdgeTotals } from './totals.ts'
import type { FlowWindow } from './windows.ts'

/**
 * The flow of each subject, read back from `flow_stats`: the graph of publishers → subjects →
 * consumer groups → the subjects they emit for a window, and a subject's chain (what follows it).
 * A window reads minute documents (`15m`, `1h`) or hour documents and the latest minutes (`6h`,
 * `24h`: `periods.ts`), sums them in JavaScript, and estimates percentiles from the summed
 * buckets.
 */

/**
 * The window's read on MongoDB: an equality on the resolution and a range of periods. FerretDB
 * filters the equality inside PostgreSQL and the range after fetching every document of that
 * resolution, so there a read costs what the resolution holds: 2 hours of minutes, or the keep
 * time of hours (docs/dashboard.md).
 */
export const flowIndexes: readonly IndexDeclaration[] = [
  {
    collection: 'flowStats',
    keys: { resolution: 1, periodAt: 1 },
    serves: "the flow graph: every edge's counts of a resolution in a window",
    onFerretDb: 'scan',
  },
]

export type FlowNodeKind = 'service' | 'subject' | 'group'

export interface FlowNode {
  /** `<kind>:<name>`: a subject and a consumer group may share a name, their nodes never. */
  id: string
  kind: FlowNodeKind
  label: string
}

export interface FlowEdge {
  /** Node ids. */
  from: string
  to: string
  kind: FlowEdgeKind
  /** Events published or emitted, or handler runs, in the window. */
  count: number
  /** `count` per minute of the span read, `since` to `until`. */
  perMinute: number
  /** Handler runs that failed (`delivers`); 0 for the others. */
  failures: number
  /** `failures / count`; 0 without traffic. */
  failureRate: number
  /** Median and 95th percentile of the step time, in ms; null when no time was counted. */
  p50Ms: number | null
  p95Ms: number | null
}

export interface FlowGraph {
  window: FlowWindow
  /**
   * The start of the first period read (a minute; an hour for `6h` and `24h`), and the time of
   * the read.
   */
  since: Date
  until: Date
  nodes: FlowNode[]
  edges: FlowEdge[]
}

export interface ChainStep {
  /** 1 for the consumer groups of the subject, 2 for what they emit, 3 for its groups, … */
  depth: number
  from: string
  to: string
  kind: 'delivers' | 'emits'
  count: number
  failures: number
  failureRate: number
  p50Ms: number | null
  p95Ms: number | null
}

export interface SubjectChain {
  subject: string
  window: FlowWindow
  since: Date
  until: Date
  /** Events of the subject published (by operations or handlers) in the window. */
  count: number
  /** What follows the subject, breadth first; empty for a subject nothing handles. */
  steps: ChainStep[]
}

/** The node kinds at each end of an edge of a kind. */
const ends: Record<FlowEdgeKind, [FlowNodeKind, FlowNodeKind]> = {
  publishes: ['service', 'subject'],
  emits: ['group', 'subject'],
  delivers: ['subject', 'group'],
}

export const flowNodeId = (kind: FlowNodeKind, name: string) => `${kind}:${name}`

/** How deep a chain is walked: an answer stays small, whatever the graph. */
export const maxChainDepth = 8

/**
 * The graph for a window: the edges with traffic, and every consumer group of the stream (from
 * JetStream) with its subjects, so a quiet group shows with a count of 0. The window starts at
 * the minute (`15m`, `1h`) or the hour (`6h`, `24h`) `window` ago began; rates are per minute
 * of that span.
 */
export async function flowGraph(
  source: AdminSource,
  window: FlowWindow,
  now = new Date(),
): Promise<FlowGraph> {
  const { since, ranges } = flowReadPlan(window, now)
  const [totals, groups] = await Promise.all([
    readEdgeTotals(source.store, ranges),
    source.consumerGroups(),
  ])
  const minutes = (now.getTime() - since.getTime()) / minuteMs
  const nodes = new Map<string, FlowNode>()
  const edges = new Map<string, FlowEdge>()
  const add = (kind: FlowEdgeKind, from: string, to: string, totals?: EdgeTotals) => {
    const [fromKind, toKind] = ends[kind]
    const fromId = flowNodeId(fromKind, from)
    const toId = flowNodeId(toKind, to)
    nodes.set(fromId, { id: fromId, kind: fromKind, label: from })
    nodes.set(toId, { id: toId, kind: toKind, label: to })
    const key = `${kind} ${fromId} ${toId}`
    if (!totals && edges.has(key)) return
    const count = totals?.count ?? 0
    const failures = totals?.failures ?? 0
    edges.set(key, {
      from: fromId,
      to: toId,
      kind,
      count,
      perMinute: count / minutes,
      failures,
      failureRate: count === 0 ? 0 : failures / count,
      p50Ms: totals ? percentile(totals.buckets, 0.5) : null,
      p95Ms: totals ? percentile(totals.buckets, 0.95) : null,
    })
  }
  for (const group of groups) {
    for (const filter of group.filterSubjects) {
      const subject = filteredSubject(source.stream.subjectPrefix, filter)
      if (subject) add('delivers', subject, consumerGroupOf(group.durable))
    }
  }
  for (const t of totals) add(t.kind, t.from, t.to, t)
  const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  return {
    window,
    since,
    until: now,
    nodes: [...nodes.values()].sort((a, b) => byId(a.id, b.id)),
    edges: [...edges.values()].sort((a, b) => byId(a.from, b.from) || byId(a.to, b.to)),
  }
}

/**
 * What follows a subject in the graph, breadth first: its consumer groups (depth 1), the
 * subjects they emit (2), their consumer groups (3), … to depth 8. Each node is walked from
 * once, so each edge shows once and a cycle ends the walk.
 */
export function walkChain(graph: FlowGraph, subject: string): SubjectChain {
  const start = flowNodeId('subject', subject)
  const next = new Map<string, FlowEdge[]>()
  let count = 0
  for (const edge of graph.edges) {
    if (edge.to === start && edge.kind !== 'delivers') count += edge.count
    if (edge.kind === 'publishes') continue
    next.set(edge.from, [...(next.get(edge.from) ?? []), edge])
  }
  const steps: ChainStep[] = []
  const seen = new Set([start])
  let level = [start]
  for (let depth = 1; depth <= maxChainDepth && level.length > 0; depth++) {
    const below: string[] = []
    for (const node of level) {
      for (const edge of next.get(node) ?? []) {
        const { from, to, count, failures, failureRate, p50Ms, p95Ms } = edge
        const kind = edge.kind as ChainStep['kind']
        steps.push({ depth, from, to, kind, count, failures, failureRate, p50Ms, p95Ms })
        if (!seen.has(to)) {
          seen.add(to)
          below.push(to)
        }
      }
    }
    level = below
  }
  const { window, since, until } = graph
  return { subject, window, since, until, count, steps }
}

/** A subject's chain for a window (the graph's read, walked). */
export async function subjectChain(
  source: AdminSource,
  subject: string,
  window: FlowWindow,
  now = new Date(),
): Promise<SubjectChain> {
  return walkChain(await flowGraph(source, window, now), subject)
}
