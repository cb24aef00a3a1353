// The part of dagre the flow layout uses, typed. dagre 3's bundled declarations import their
// neighbours without file extensions, which NodeNext resolution cannot follow: imported as is,
// everything in it would be an unresolved type.
import dagre from '@dagrejs/dagre'

export interface DagrePoint {
  x: number
  y: number
}

/** A node: its size in; its centre out. */
export interface DagreNode {
  width: number
  height: number
  x?: number
  y?: number
}

/** An edge: its label's size and place in; the label's centre and the route out. */
export interface DagreEdge {
  width?: number
  height?: number
  labelpos?: 'l' | 'c' | 'r'
  weight?: number
  minlen?: number
  x?: number
  y?: number
  points?: DagrePoint[]
}

export interface DagreGraphOptions {
  rankdir?: 'TB' | 'BT' | 'LR' | 'RL'
  nodesep?: number
  edgesep?: number
  ranksep?: number
  marginx?: number
  marginy?: number
}

export interface DagreGraph {
  setGraph(options: DagreGraphOptions): DagreGraph
  setDefaultEdgeLabel(label: () => DagreEdge): DagreGraph
  setNode(id: string, node: DagreNode): DagreGraph
  setEdge(from: string, to: string, edge: DagreEdge, name?: string): DagreGraph
  node(id: string): DagreNode
  edge(from: string, to: string, name?: string): DagreEdge
}

const lib = dagre as unknown as {
  graphlib: { Graph: new (options: { multigraph?: boolean }) => DagreGraph }
  layout(graph: DagreGraph): void
}

/** A new graph that may hold more than one edge between two nodes (each named). */
export const newDagreGraph = () => new lib.graphlib.Graph({ multigraph: true })

/** Ranks, orders and positions the graph's nodes and routes its edges, in place. */
export const layoutDagreGraph = (graph: DagreGraph) => lib.layout(graph)
