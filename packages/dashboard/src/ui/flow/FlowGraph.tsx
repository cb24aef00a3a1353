import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react'
import { share } from './figures.ts'
import {
  fontPx,
  lineHeightEm,
  minScale,
  routePath,
  type FlowLayout,
  type PositionedEdge,
  type PositionedNode,
} from './layout.ts'
import './flow.css'

/** Words for a node's kind, in its accessible name. */
const kindWords = { service: 'Service', subject: 'Subject', group: 'Consumer group' } as const

/**
 * The laid-out flow graph as SVG, fitted to its container's width but never smaller than
 * `minScale` (the container scrolls instead), so every label stays legible. Subject nodes are
 * buttons: a click, Enter or Space selects one; the selected subject's downstream is highlighted.
 */
export function FlowGraph({
  layout,
  selected,
  downstream,
  onSelect,
}: {
  layout: FlowLayout
  selected: string | undefined
  downstream: { edges: Set<string>; nodes: Set<string> } | null
  onSelect: (subject: string) => void
}) {
  const container = useRef<HTMLDivElement>(null)
  const scale = useFitScale(container, layout.width)
  // A subject selected elsewhere (the table, the address) is brought into view, once: a poll's
  // new layout does not take the view back from someone scrolling the graph.
  const shown = useRef<string | undefined>(undefined)
  useEffect(() => {
    if (!selected) shown.current = undefined
    if (!selected || shown.current === selected) return
    const node = container.current?.querySelector(
      `[data-node-id="${CSS.escape(`subject:${selected}`)}"]`,
    )
    if (!node) return
    shown.current = selected
    node.scrollIntoView?.({ block: 'nearest', inline: 'nearest' })
  }, [selected, layout])
  const failing = layout.edges.some((e) => e.failures > 0)
  // Reading order for the keyboard: left to right, then top to bottom.
  const nodes = [...layout.nodes].sort((a, b) => a.x - b.x || a.y - b.y)
  return (
    <div className="flow-scroll" ref={container} data-scale={scale}>
      <svg
        className={`flow-graph${downstream ? ' has-selection' : ''}`}
        role="group"
        aria-label={`The flow of each subject: ${layout.nodes.length} nodes, ${layout.edges.length} edges`}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        width={Math.round(layout.width * scale)}
        height={Math.round(layout.height * scale)}
      >
        <defs>
          {(['plain', 'failing', 'downstream'] as const).map((kind) => (
            <marker
              key={kind}
              id={`flow-arrow-${kind}`}
              className={`flow-arrow ${kind}`}
              viewBox="0 0 10 10"
              refX="10"
              refY="5"
              markerUnits="userSpaceOnUse"
              markerWidth="9"
              markerHeight="9"
              orient="auto-start-reverse"
            >
              <path d="M0,0 L10,5 L0,10 z" />
            </marker>
          ))}
        </defs>
        <g role="img" aria-label="Who publishes and who consumes each subject">
          <title>
            {failing ? 'Edges: events per minute and count; failing deliveries in red' : 'Edges'}
          </title>
          {layout.edges.map((edge, i) => (
            <Edge key={i} edge={edge} downstream={downstream?.edges.has(edge.key) ?? false} />
          ))}
        </g>
        {nodes.map((node) => (
          <Node
            key={node.id}
            node={node}
            selected={node.id === `subject:${selected}`}
            downstream={downstream?.nodes.has(node.id) ?? false}
            onSelect={onSelect}
          />
        ))}
      </svg>
    </div>
  )
}

/** The scale that fits `width` into the container's width: at most 1, at least `minScale`. */
function useFitScale(container: React.RefObject<HTMLDivElement | null>, width: number): number {
  const [available, setAvailable] = useState(0)
  useLayoutEffect(() => {
    const element = container.current
    if (!element) return
    const measure = () => setAvailable(element.clientWidth)
    measure()
    const observer = new ResizeObserver(measure)
    observer.observe(element)
    return () => observer.disconnect()
  }, [container])
  if (available <= 0 || width <= 0) return 1
  return Math.min(1, Math.max(minScale, available / width))
}

function Edge({ edge, downstream }: { edge: PositionedEdge; downstream: boolean }) {
  const state = downstream ? 'downstream' : edge.failures > 0 ? 'failing' : 'plain'
  const { label } = edge
  const lineHeight = fontPx.edge * lineHeightEm
  const name =
    `${edge.from} to ${edge.to}: ${label.lines.map((l) => l.text).join(', ')}` +
    (edge.failures > 0 ? ` (${share(edge.failureRate)} of runs failed)` : '')
  return (
    <g className={`flow-edge ${edge.kind} ${state}`} data-edge={edge.key}>
      <title>{name}</title>
      <path d={routePath(edge.points)} markerEnd={`url(#flow-arrow-${state})`} />
      <rect
        className="flow-edge-label"
        x={label.x}
        y={label.y}
        width={label.width}
        height={label.height}
        rx="3"
      />
      {label.lines.map((line, i) => (
        <text
          key={i}
          className={line.failing ? 'failing' : undefined}
          x={label.x + label.width / 2}
          y={label.y + 2 + (i + 0.5) * lineHeight}
          textAnchor="middle"
          dominantBaseline="central"
        >
          {line.text}
        </text>
      ))}
    </g>
  )
}

function Node({
  node,
  selected,
  downstream,
  onSelect,
}: {
  node: PositionedNode
  selected: boolean
  downstream: boolean
  onSelect: (subject: string) => void
}) {
  const isSubject = node.kind === 'subject'
  const subject = node.id.replace(/^subject:/, '')
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'Enter' && e.key !== ' ') return
    e.preventDefault()
    onSelect(subject)
  }
  const classes = ['flow-node', node.kind, selected && 'selected', downstream && 'downstream']
  return (
    <g
      className={classes.filter(Boolean).join(' ')}
      data-node-id={node.id}
      {...(isSubject
        ? {
            role: 'button',
            tabIndex: 0,
            'aria-label': `${kindWords.subject} ${node.label}`,
            'aria-pressed': selected,
            onClick: () => onSelect(subject),
            onKeyDown,
          }
        : { role: 'img', 'aria-label': `${kindWords[node.kind]} ${node.label}` })}
    >
      <rect
        x={node.x}
        y={node.y}
        width={node.width}
        height={node.height}
        rx={node.kind === 'subject' ? node.height / 2 : 4}
      />
      <text
        x={node.labelBox.x + node.labelBox.width / 2}
        y={node.labelBox.y + node.labelBox.height / 2}
        textAnchor="middle"
        dominantBaseline="central"
      >
        {node.label}
      </text>
    </g>
  )
}
