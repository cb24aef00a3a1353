// What follows a subject in the graph: the edges and nodes its chain summary walks.
import { edgeKey } from './layout.ts'

/** The most steps a chain summary goes (the API's depth limit). */
export const maxChainDepth = 8

/**
 * The edges (by `edgeKey`) and nodes reachable from `from` along the graph's edges,
 * breadth-first, at most `maxChainDepth` steps: what the graph highlights for a selected subject.
 */
export function downstreamOf(
  edges: ReadonlyArray<{ from: string; to: string }>,
  from: string,
): { edges: Set<string>; nodes: Set<string> } {
  const reached = { edges: new Set<string>(), nodes: new Set([from]) }
  let frontier = [from]
  for (let depth = 0; depth < maxChainDepth && frontier.length > 0; depth++) {
    const next: string[] = []
    for (const edge of edges) {
      if (!frontier.includes(edge.from) || reached.edges.has(edgeKey(edge.from, edge.to))) continue
      reached.edges.add(edgeKey(edge.from, edge.to))
      if (!reached.nodes.has(edge.to)) next.push(edge.to)
      reached.nodes.add(edge.to)
    }
    frontier = next
  }
  return reached
}
