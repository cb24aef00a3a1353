// The flow graph laid out: a pure function from the API's answer to boxes, routes and labels.
import { layoutDagreGraph, newDagreGraph } from './dagre.ts'
import { perMinute, share } from './figures.ts'
import { estimateTextWidth, type MeasureText } from './text-width.ts'
import type { FlowGraphAnswer } from './types.ts'

export type FlowNode = FlowGraphAnswer['nodes'][number]
export type FlowEdge = FlowGraphAnswer['edges'][number]

/** A box: top-left corner and size, in the layout's units (px at scale 1). */
export interface Box {
  x: number
  y: number
  width: number
  height: number
}

export interface Point {
  x: number
  y: number
}

/** A node with its box and its label's box (the label is centred in the node). */
export interface PositionedNode extends FlowNode, Box {
  labelBox: Box
}

/** One line of an edge's label; `failing` lines are drawn as failures. */
export interface EdgeLabelLine {
  text: string
  failing: boolean
}

/** An edge with its route (dagre's polyline, first and last points on the nodes' borders). */
export interface PositionedEdge extends FlowEdge {
  /** `<from>→<to>`: what `edgeKey` gives. */
  key: string
  points: Point[]
  label: Box & { lines: EdgeLabelLine[] }
}

export interface FlowLayout {
  width: number
  height: number
  nodes: PositionedNode[]
  edges: PositionedEdge[]
}

/** Font sizes of the labels in px at scale 1: the page never scales below `minScale`. */
export const fontPx = { node: 13, edge: 12 } as const
/** Drawn at this scale or larger, the smallest label (12 px) is still 9.6 px on screen. */
export const minScale = 0.8
/** A label line's height, in em. */
export const lineHeightEm = 1.3

const nodePadding = { x: 12, y: 7 }
const margin = 16

/** The key of an edge: its ends, as the chain summary's steps name them. */
export const edgeKey = (from: string, to: string) => `${from}→${to}`

/** What an edge's label says: its rate and count, and its failure share when any failed. */
export function edgeLabelLines(edge: FlowEdge): EdgeLabelLine[] {
  const lines = [
    { text: `${perMinute(edge.perMinute, edge.count)} · ${edge.count}`, failing: false },
  ]
  if (edge.failures > 0) {
    lines.push({ text: `${share(edge.failureRate)} failed (${edge.failures})`, failing: true })
  }
  return lines
}

/**
 * Lays the graph out left to right (services → subjects → consumer groups → the subjects they
 * emit) with dagre: nodes sized from their labels, edges routed around them with their labels
 * placed as nodes of their own, so no node or label overlaps another. Everything lies inside
 * `width` × `height`, from (0, 0).
 */
export function layoutFlow(
  graph: Pick<FlowGraphAnswer, 'nodes' | 'edges'>,
  measure: MeasureText = estimateTextWidth,
): FlowLayout {
  // The measure with room to spare: a browser's text may round a pixel wider than measured.
  const textWidth = (text: string, px: number) => Math.ceil(measure(text, px) * 1.06) + 2
  const g = newDagreGraph()
  g.setGraph({ rankdir: 'LR', nodesep: 16, edgesep: 12, ranksep: 44, marginx: 0, marginy: 0 })
  g.setDefaultEdgeLabel(() => ({}))

  const ids = new Set<string>()
  for (const node of graph.nodes) {
    if (ids.has(node.id)) continue
    ids.add(node.id)
    const labelWidth = textWidth(node.label, fontPx.node)
    const labelHeight = Math.ceil(fontPx.node * lineHeightEm)
    g.setNode(node.id, {
      width: labelWidth + 2 * nodePadding.x,
      height: labelHeight + 2 * nodePadding.y,
    })
  }
  // An edge to a node the answer does not list still gets drawn: its end shows as its id.
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]))
  for (const id of graph.edges.flatMap((e) => [e.from, e.to])) {
    if (ids.has(id)) continue
    ids.add(id)
    const node: FlowNode = { id, kind: kindOf(id), label: id.replace(/^[a-z]+:/, '') }
    nodes.set(id, node)
    g.setNode(id, {
      width: textWidth(node.label, fontPx.node) + 2 * nodePadding.x,
      height: Math.ceil(fontPx.node * lineHeightEm) + 2 * nodePadding.y,
    })
  }

  const lineHeight = Math.ceil(fontPx.edge * lineHeightEm)
  graph.edges.forEach((edge, i) => {
    const lines = edgeLabelLines(edge)
    g.setEdge(
      edge.from,
      edge.to,
      {
        width: Math.max(...lines.map((l) => textWidth(l.text, fontPx.edge))) + 6,
        height: lines.length * lineHeight + 4,
        labelpos: 'c',
        // Publishing and delivering keep their subjects close to their ends.
        weight: edge.kind === 'emits' ? 1 : 2,
      },
      String(i),
    )
  })
  layoutDagreGraph(g)

  const positionedNodes = [...ids].map((id): PositionedNode => {
    const n = g.node(id)
    const node = nodes.get(id)!
    const labelWidth = n.width - 2 * nodePadding.x
    const labelHeight = n.height - 2 * nodePadding.y
    return {
      ...node,
      x: n.x! - n.width / 2,
      y: n.y! - n.height / 2,
      width: n.width,
      height: n.height,
      labelBox: {
        x: n.x! - labelWidth / 2,
        y: n.y! - labelHeight / 2,
        width: labelWidth,
        height: labelHeight,
      },
    }
  })
  const positionedEdges = graph.edges.map((edge, i): PositionedEdge => {
    const e = g.edge(edge.from, edge.to, String(i))
    const width = e.width ?? 0
    const height = e.height ?? 0
    return {
      ...edge,
      key: edgeKey(edge.from, edge.to),
      points: (e.points ?? []).map((p) => ({ x: p.x, y: p.y })),
      label: {
        x: (e.x ?? 0) - width / 2,
        y: (e.y ?? 0) - height / 2,
        width,
        height,
        lines: edgeLabelLines(edge),
      },
    }
  })
  return fitToOrigin(positionedNodes, positionedEdges)
}

/** Moves everything so the drawing starts at (margin, margin) and says how big it is. */
function fitToOrigin(nodes: PositionedNode[], edges: PositionedEdge[]): FlowLayout {
  const boxes: Box[] = [...nodes, ...edges.map((e) => e.label)]
  const points = [...boxes.flatMap(corners), ...edges.flatMap((e) => e.points)]
  if (points.length === 0) return { width: 2 * margin, height: 2 * margin, nodes, edges }
  const minX = Math.min(...points.map((p) => p.x))
  const minY = Math.min(...points.map((p) => p.y))
  const maxX = Math.max(...points.map((p) => p.x))
  const maxY = Math.max(...points.map((p) => p.y))
  const dx = margin - minX
  const dy = margin - minY
  const move = <B extends Point>(b: B): B => ({ ...b, x: b.x + dx, y: b.y + dy })
  return {
    width: Math.ceil(maxX - minX + 2 * margin),
    height: Math.ceil(maxY - minY + 2 * margin),
    nodes: nodes.map((n) => ({ ...move(n), labelBox: move(n.labelBox) })),
    edges: edges.map((e) => ({ ...e, points: e.points.map(move), label: move(e.label) })),
  }
}

function corners(b: Box): Point[] {
  return [
    { x: b.x, y: b.y },
    { x: b.x + b.width, y: b.y + b.height },
  ]
}

function kindOf(id: string): FlowNode['kind'] {
  if (id.startsWith('service:')) return 'service'
  if (id.startsWith('group:')) return 'group'
  return 'subject'
}

/**
 * An SVG path through a route's points: straight ends, smoothed bends (each bend a quadratic
 * curve whose control point is the bend), so the curve stays inside the points' hull.
 */
export function routePath(points: Point[]): string {
  if (points.length === 0) return ''
  const [first, ...rest] = points
  if (rest.length < 2)
    return `M${first!.x},${first!.y}` + rest.map((p) => ` L${p.x},${p.y}`).join('')
  let d = `M${first!.x},${first!.y}`
  for (let i = 0; i < rest.length - 1; i++) {
    const bend = rest[i]!
    const next = rest[i + 1]!
    const mid =
      i === rest.length - 2 ? next : { x: (bend.x + next.x) / 2, y: (bend.y + next.y) / 2 }
    d += ` Q${bend.x},${bend.y} ${mid.x},${mid.y}`
  }
  return d
}
