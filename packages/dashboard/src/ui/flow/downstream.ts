// What follows a subject in the graph: the steps its chain summary lists and the graph highlights.
import type { ChainStep } from './chain-steps.ts'
import { edgeKey } from './layout.ts'
import type { FlowGraphAnswer } from './types.ts'

/** The most steps a chain summary goes (the API's depth limit). */
export const maxChainDepth = 8

/**
 * The edges reachable from `from` along the graph's edges, breadth-first, each with its depth (1
 * for the edges leaving `from`), at most `maxChainDepth` deep; each edge once, so a cycle ends.
 */
function walk<Edge extends { from: string; to: string }>(
  edges: readonly Edge[],
  from: string,
): { edge: Edge; depth: number }[] {
  const steps: { edge: Edge; depth: number }[] = []
  const walked = new Set<string>()
  const reached = new Set([from])
  let frontier = [from]
  for (let depth = 1; depth <= maxChainDepth && frontier.length > 0; depth++) {
    const next: string[] = []
    for (const edge of edges) {
      const key = edgeKey(edge.from, edge.to)
      if (!frontier.includes(edge.from) || walked.has(key)) continue
      walked.add(key)
      steps.push({ edge, depth })
      if (!reached.has(edge.to)) next.push(edge.to)
      reached.add(edge.to)
    }
    frontier = next
  }
  return steps
}

/** The edges (by `edgeKey`) and nodes reachable from `from`: what the graph highlights. */
export function downstreamOf(
  edges: ReadonlyArray<{ from: string; to: string }>,
  from: string,
): { edges: Set<string>; nodes: Set<string> } {
  const reached = { edges: new Set<string>(), nodes: new Set([from]) }
  for (const { edge } of walk(edges, from)) {
    reached.edges.add(edgeKey(edge.from, edge.to))
    reached.nodes.add(edge.to)
  }
  return reached
}

/**
 * A subject's chain from the graph the page already has (what `GET /api/flow/subjects/{subject}`
 * answers, without a second read): its events published or emitted in the window, and what
 * follows it, breadth first.
 */
export function chainOf(
  graph: FlowGraphAnswer,
  subject: string,
): { count: number; steps: ChainStep[] } {
  const start = `subject:${subject}`
  let count = 0
  for (const edge of graph.edges)
    if (edge.to === start && edge.kind !== 'delivers') count += edge.count
  const steps = walk(graph.edges, start).map(({ edge, depth }) => {
    const { from, to, count, failures, failureRate, p50Ms, p95Ms } = edge
    const kind = edge.kind as ChainStep['kind']
    return { depth, from, to, kind, count, failures, failureRate, p50Ms, p95Ms }
  })
  return { count, steps }
}
