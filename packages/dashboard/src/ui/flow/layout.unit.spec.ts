import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  edgeLabelLines,
  fontPx,
  layoutFlow,
  routePath,
  type Box,
  type FlowLayout,
} from './layout.ts'
import { estimateTextWidth } from './text-width.ts'
import type { FlowGraphAnswer } from './types.ts'

type Graph = Pick<FlowGraphAnswer, 'nodes' | 'edges'>
type Edge = Graph['edges'][number]

const edge = (from: string, to: string, kind: Edge['kind'], count: number, failures = 0): Edge => ({
  from,
  to,
  kind,
  count,
  perMinute: count / 60,
  failures,
  failureRate: count ? failures / count : 0,
  p50Ms: count ? 12 : null,
  p95Ms: count ? 80 : null,
})

/**
 * A generated system: services publish some subjects, consumer groups (of any service) consume
 * subjects and emit others, later ones mostly, sometimes an earlier one (a cycle); some fail.
 */
const systems = fc
  .record({
    services: fc.integer({ min: 1, max: 6 }),
    subjects: fc.array(
      fc.record({
        name: fc.stringMatching(/^[A-Z][a-zA-Z0-9]{0,24}\.[a-z][a-zA-Z0-9]{0,24}$/),
        publishedBy: fc.option(fc.nat(), { nil: undefined }),
        groups: fc.array(
          fc.record({
            handler: fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,30}$/),
            service: fc.nat(),
            emits: fc.array(fc.nat(), { maxLength: 3 }),
            count: fc.nat({ max: 50_000 }),
            failures: fc.nat({ max: 500 }),
          }),
          { maxLength: 2, size: 'max' },
        ),
      }),
      { minLength: 1, maxLength: 60, size: 'max' },
    ),
  })
  .map(({ services, subjects }): Graph => {
    const nodes = new Map<string, Graph['nodes'][number]>()
    const edges = new Map<string, Edge>()
    const serviceName = (i: number) => `service${i % services}`
    const subjectId = (i: number) => {
      const k = i % subjects.length
      return `subject:${k}.${subjects[k]!.name}`
    }
    subjects.forEach((subject, i) => {
      nodes.set(subjectId(i), { id: subjectId(i), kind: 'subject', label: `${i}.${subject.name}` })
      if (subject.publishedBy !== undefined || i === 0) {
        const service = serviceName(subject.publishedBy ?? 0)
        nodes.set(`service:${service}`, {
          id: `service:${service}`,
          kind: 'service',
          label: service,
        })
        edges.set(`${service}>${i}`, edge(`service:${service}`, subjectId(i), 'publishes', 7))
      }
      subject.groups.forEach((group, j) => {
        const label = `${serviceName(group.service)}.${group.handler}${i}x${j}`
        const id = `group:${label}`
        nodes.set(id, { id, kind: 'group', label })
        const failures = Math.min(group.failures, group.count)
        edges.set(id, edge(subjectId(i), id, 'delivers', group.count, failures))
        for (const step of group.emits) {
          // Mostly forward (a tree); now and then back to an earlier subject (a cycle).
          const target = step % 5 === 0 ? step : i + 1 + step
          if (target >= subjects.length && step % 5 !== 0) continue
          edges.set(`${id}>${target}`, edge(id, subjectId(target), 'emits', group.count))
        }
      })
    })
    return { nodes: [...nodes.values()], edges: [...edges.values()] }
  })

const overlaps = (a: Box, b: Box) =>
  a.x < b.x + b.width - 0.5 &&
  b.x < a.x + a.width - 0.5 &&
  a.y < b.y + b.height - 0.5 &&
  b.y < a.y + a.height - 0.5

const inside = (inner: Box, outer: Box) =>
  inner.x >= outer.x - 0.01 &&
  inner.y >= outer.y - 0.01 &&
  inner.x + inner.width <= outer.x + outer.width + 0.01 &&
  inner.y + inner.height <= outer.y + outer.height + 0.01

function checkLayout(graph: Graph, layout: FlowLayout) {
  const drawing: Box = { x: 0, y: 0, width: layout.width, height: layout.height }
  expect(layout.nodes.map((n) => n.id).sort()).toEqual(graph.nodes.map((n) => n.id).sort())
  expect(layout.edges).toHaveLength(graph.edges.length)
  const labels = layout.edges.map((e) => e.label)
  for (const [i, node] of layout.nodes.entries()) {
    expect(inside(node, drawing), `${node.id} inside the drawing`).toBe(true)
    expect(inside(node.labelBox, node), `${node.id}'s label inside its box`).toBe(true)
    expect(node.labelBox.width).toBeGreaterThanOrEqual(estimateTextWidth(node.label, fontPx.node))
    for (const other of layout.nodes.slice(i + 1)) {
      expect(overlaps(node, other), `${node.id} overlaps ${other.id}`).toBe(false)
    }
    for (const label of labels)
      expect(overlaps(node, label), `${node.id} under a label`).toBe(false)
  }
  for (const [i, e] of layout.edges.entries()) {
    expect(inside(e.label, drawing), `${e.key}'s label inside the drawing`).toBe(true)
    for (const line of e.label.lines) {
      expect(e.label.width).toBeGreaterThanOrEqual(estimateTextWidth(line.text, fontPx.edge))
    }
    for (const other of labels.slice(i + 1)) expect(overlaps(e.label, other)).toBe(false)
    expect(e.points.length).toBeGreaterThanOrEqual(2)
    for (const p of e.points) expect(inside({ ...p, width: 0, height: 0 }, drawing)).toBe(true)
  }
}

describe('the flow layout', () => {
  it('never overlaps two nodes or labels, and keeps every one inside the drawing, up to 60 subjects', () => {
    fc.assert(
      fc.property(systems, (graph) => checkLayout(graph, layoutFlow(graph))),
      { numRuns: 40 },
    )
  })

  it('ranks publishers, subjects, consumer groups and emitted subjects from left to right', () => {
    const graph: Graph = {
      nodes: [
        { id: 'service:users', kind: 'service', label: 'users' },
        { id: 'subject:User.nameUpdated', kind: 'subject', label: 'User.nameUpdated' },
        { id: 'group:blogs.updateAuthorName', kind: 'group', label: 'blogs.updateAuthorName' },
        { id: 'subject:Blog.authorUpdated', kind: 'subject', label: 'Blog.authorUpdated' },
      ],
      edges: [
        edge('service:users', 'subject:User.nameUpdated', 'publishes', 3),
        edge('subject:User.nameUpdated', 'group:blogs.updateAuthorName', 'delivers', 3, 1),
        edge('group:blogs.updateAuthorName', 'subject:Blog.authorUpdated', 'emits', 2),
      ],
    }
    const layout = layoutFlow(graph)
    checkLayout(graph, layout)
    const x = (id: string) => layout.nodes.find((n) => n.id === id)!.x
    expect(x('service:users')).toBeLessThan(x('subject:User.nameUpdated'))
    expect(x('subject:User.nameUpdated')).toBeLessThan(x('group:blogs.updateAuthorName'))
    expect(x('group:blogs.updateAuthorName')).toBeLessThan(x('subject:Blog.authorUpdated'))
    // Routes run from one node's border to the next one's.
    const delivers = layout.edges[1]!
    const from = layout.nodes.find((n) => n.id === delivers.from)!
    expect(delivers.points[0]!.x).toBeCloseTo(from.x + from.width, 0)
  })

  it('labels an edge with its rate and count, and its failures when any failed', () => {
    expect(edgeLabelLines(edge('a', 'b', 'delivers', 120, 3))).toEqual([
      { text: '2/min · 120', failing: false },
      { text: '2.5% failed (3)', failing: true },
    ])
    expect(edgeLabelLines(edge('a', 'b', 'delivers', 0))).toEqual([
      { text: '0/min · 0', failing: false },
    ])
  })

  it('draws a graph with nothing in it, and an edge whose ends the answer does not list', () => {
    expect(layoutFlow({ nodes: [], edges: [] })).toMatchObject({ nodes: [], edges: [] })
    const layout = layoutFlow({ nodes: [], edges: [edge('group:a.b', 'subject:C.d', 'emits', 1)] })
    expect(layout.nodes.map((n) => [n.kind, n.label])).toEqual([
      ['group', 'a.b'],
      ['subject', 'C.d'],
    ])
  })

  it('routes through the points: straight ends, curved bends ending on the last point', () => {
    expect(
      routePath([
        { x: 0, y: 0 },
        { x: 10, y: 0 },
      ]),
    ).toBe('M0,0 L10,0')
    expect(
      routePath([
        { x: 0, y: 0 },
        { x: 10, y: 0 },
        { x: 20, y: 10 },
        { x: 30, y: 10 },
      ]),
    ).toBe('M0,0 Q10,0 15,5 Q20,10 30,10')
  })
})
