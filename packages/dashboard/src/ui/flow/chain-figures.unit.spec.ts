import { describe, expect, it } from 'vitest'
import { chainRows, type ChainStep } from './chain-steps.ts'
import { chainOf, downstreamOf } from './downstream.ts'
import type { FlowGraphAnswer } from './types.ts'
import { duration, perMinute, share } from './figures.ts'

const step = (depth: number, from: string, to: string, count = 4, failures = 0): ChainStep => ({
  depth,
  from,
  to,
  kind: to.startsWith('group:') ? 'delivers' : 'emits',
  count,
  failures,
  failureRate: count ? failures / count : 0,
  p50Ms: 10,
  p95Ms: 40,
})

describe("a subject's chain summary", () => {
  it('puts each step under the one it follows, depth first, from the breadth-first answer', () => {
    const steps = [
      step(1, 'subject:User.nameUpdated', 'group:blogs.updateAuthorName'),
      step(1, 'subject:User.nameUpdated', 'group:comments.updateAuthorName', 4, 1),
      step(2, 'group:blogs.updateAuthorName', 'subject:Blog.authorUpdated'),
      step(2, 'group:comments.updateAuthorName', 'subject:Comment.authorUpdated'),
      step(3, 'subject:Blog.authorUpdated', 'group:search.index'),
    ]
    expect(chainRows('User.nameUpdated', steps).map((r) => [r.depth, r.text])).toEqual([
      [1, '→ group blogs.updateAuthorName'],
      [2, '→ emits Blog.authorUpdated'],
      [3, '→ group search.index'],
      [1, '→ group comments.updateAuthorName'],
      [2, '→ emits Comment.authorUpdated'],
    ])
  })

  it('shows a step reached from two groups once, and one it cannot place at the end', () => {
    const steps = [
      step(1, 'subject:A.x', 'group:s.one'),
      step(1, 'subject:A.x', 'group:s.two'),
      step(2, 'group:s.one', 'subject:B.y'),
      step(2, 'group:s.two', 'subject:B.y'),
      step(3, 'subject:B.y', 'group:s.three'),
      step(5, 'subject:Z.z', 'group:s.far'),
    ]
    const rows = chainRows('A.x', steps)
    expect(rows.map((r) => r.text)).toEqual([
      '→ group s.one',
      '→ emits B.y',
      '→ group s.three',
      '→ group s.two',
      '→ emits B.y',
      'Z.z → s.far',
    ])
  })

  it('highlights what follows a subject in the graph, cycles included, each edge once', () => {
    const edges = [
      { from: 'service:users', to: 'subject:A.x' },
      { from: 'subject:A.x', to: 'group:s.one' },
      { from: 'group:s.one', to: 'subject:B.y' },
      { from: 'subject:B.y', to: 'group:s.two' },
      { from: 'group:s.two', to: 'subject:A.x' },
      { from: 'subject:C.z', to: 'group:s.three' },
    ]
    const reached = downstreamOf(edges, 'subject:A.x')
    expect([...reached.nodes].sort()).toEqual([
      'group:s.one',
      'group:s.two',
      'subject:A.x',
      'subject:B.y',
    ])
    expect(reached.edges.size).toBe(4)
    expect(reached.edges.has('service:users→subject:A.x')).toBe(false)
  })

  it("walks a subject's chain from the graph: its events in, then each step once with its depth", () => {
    const edge = (
      kind: 'publishes' | 'delivers' | 'emits',
      from: string,
      to: string,
      count = 3,
    ) => ({
      kind,
      from,
      to,
      count,
      perMinute: count / 60,
      failures: kind === 'delivers' ? 1 : 0,
      failureRate: kind === 'delivers' ? 1 / count : 0,
      p50Ms: 5,
      p95Ms: 9,
    })
    const graph: FlowGraphAnswer = {
      window: '1h',
      since: '2026-12-01T10:00:00.000Z',
      until: '2026-12-01T11:00:00.000Z',
      nodes: [],
      edges: [
        edge('publishes', 'service:shop', 'subject:A.x', 4),
        edge('emits', 'group:s.two', 'subject:A.x', 2),
        edge('delivers', 'subject:A.x', 'group:s.one', 6),
        edge('emits', 'group:s.one', 'subject:B.y'),
        edge('delivers', 'subject:B.y', 'group:s.two'),
        edge('delivers', 'subject:C.z', 'group:s.three'),
      ],
    }
    const chain = chainOf(graph, 'A.x')
    // Published by the shop and emitted back by s.two: what came into A.x, not its deliveries.
    expect(chain.count).toBe(6)
    expect(chain.steps.map((s) => [s.depth, s.kind, s.from, s.to, s.count, s.failures])).toEqual([
      [1, 'delivers', 'subject:A.x', 'group:s.one', 6, 1],
      [2, 'emits', 'group:s.one', 'subject:B.y', 3, 0],
      [3, 'delivers', 'subject:B.y', 'group:s.two', 3, 1],
      [4, 'emits', 'group:s.two', 'subject:A.x', 2, 0],
    ])
    expect(chainOf(graph, 'Nothing.happened')).toEqual({ count: 0, steps: [] })
  })
})

describe('the figures', () => {
  it('writes durations in ms, s, min and h', () => {
    expect([null, 0.4, 840, 2_440, 59_999, 186_000, 4_320_000].map(duration)).toEqual([
      '—',
      '0 ms',
      '840 ms',
      '2.4 s',
      '60 s',
      '3.1 min',
      '1.2 h',
    ])
  })

  it('writes rates per minute and shares', () => {
    expect(perMinute(0, 0)).toBe('0/min')
    expect(perMinute(0.01, 1)).toBe('<0.1/min')
    expect(perMinute(2.46, 148)).toBe('2.5/min')
    expect(perMinute(14.6, 876)).toBe('15/min')
    expect([0, 0.0004, 0.025, 0.4, 1].map(share)).toEqual(['0%', '<0.1%', '2.5%', '40%', '100%'])
  })
})
