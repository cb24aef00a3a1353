// @vitest-environment happy-dom
import { act, createElement } from 'react'
import { createRoot, type Root } from 'react-dom/client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { downstreamOf } from './downstream.ts'
import { FlowGraph } from './FlowGraph.tsx'
import { layoutFlow } from './layout.ts'
import type { FlowGraphAnswer } from './types.ts'

;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

const figures = { perMinute: 0.05, p50Ms: 12, p95Ms: 90 }
const graph: Pick<FlowGraphAnswer, 'nodes' | 'edges'> = {
  nodes: [
    { id: 'service:users', kind: 'service', label: 'users' },
    { id: 'subject:User.nameUpdated', kind: 'subject', label: 'User.nameUpdated' },
    { id: 'group:blogs.updateAuthorName', kind: 'group', label: 'blogs.updateAuthorName' },
    { id: 'subject:Blog.authorUpdated', kind: 'subject', label: 'Blog.authorUpdated' },
  ],
  edges: [
    {
      from: 'service:users',
      to: 'subject:User.nameUpdated',
      kind: 'publishes',
      count: 3,
      failures: 0,
      failureRate: 0,
      ...figures,
    },
    {
      from: 'subject:User.nameUpdated',
      to: 'group:blogs.updateAuthorName',
      kind: 'delivers',
      count: 4,
      failures: 1,
      failureRate: 0.25,
      ...figures,
    },
    {
      from: 'group:blogs.updateAuthorName',
      to: 'subject:Blog.authorUpdated',
      kind: 'emits',
      count: 3,
      failures: 0,
      failureRate: 0,
      ...figures,
    },
  ],
}

let root: Root
let container: HTMLElement
beforeEach(() => {
  container = document.createElement('div')
  document.body.append(container)
  root = createRoot(container)
})
afterEach(async () => {
  await act(async () => root.unmount())
  container.remove()
})

async function render(selected?: string) {
  const onSelect = vi.fn()
  const layout = layoutFlow(graph)
  const downstream = selected ? downstreamOf(graph.edges, `subject:${selected}`) : null
  await act(async () =>
    root.render(createElement(FlowGraph, { layout, selected, downstream, onSelect })),
  )
  return { onSelect, layout }
}

describe('the flow graph', () => {
  it('makes each subject a button with its name, selected by a click, Enter or Space', async () => {
    const { onSelect } = await render()
    const buttons = [...container.querySelectorAll('[role="button"]')]
    expect(buttons.map((b) => b.getAttribute('aria-label'))).toEqual([
      'Subject User.nameUpdated',
      'Subject Blog.authorUpdated',
    ])
    expect(buttons.every((b) => b.getAttribute('tabindex') === '0')).toBe(true)
    // Services and consumer groups are named, not focusable.
    expect(
      [...container.querySelectorAll('.flow-node[role="img"]')].map((n) =>
        n.getAttribute('aria-label'),
      ),
    ).toEqual(['Service users', 'Consumer group blogs.updateAuthorName'])
    await act(async () => {
      buttons[0]!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
      buttons[1]!.dispatchEvent(new KeyboardEvent('keydown', { key: ' ', bubbles: true }))
      buttons[1]!.dispatchEvent(new KeyboardEvent('keydown', { key: 'a', bubbles: true }))
      buttons[0]!.dispatchEvent(new MouseEvent('click', { bubbles: true }))
    })
    expect(onSelect.mock.calls).toEqual([
      ['User.nameUpdated'],
      ['Blog.authorUpdated'],
      ['User.nameUpdated'],
    ])
  })

  it('labels each edge with its rate and count, failing ones in red with their share', async () => {
    await render()
    const delivers = container.querySelector(
      '[data-edge="subject:User.nameUpdated→group:blogs.updateAuthorName"]',
    )!
    expect(delivers.classList.contains('failing')).toBe(true)
    expect(
      [...delivers.querySelectorAll('text')].map((t) => [t.textContent, t.getAttribute('class')]),
    ).toEqual([
      ['<0.1/min · 4', null],
      ['25% failed (1)', 'failing'],
    ])
    const publishes = container.querySelector(
      '[data-edge="service:users→subject:User.nameUpdated"]',
    )!
    expect(publishes.classList.contains('plain')).toBe(true)
    expect(publishes.querySelector('path')!.getAttribute('marker-end')).toBe(
      'url(#flow-arrow-plain)',
    )
  })

  it("highlights the selected subject's downstream, not what comes before it", async () => {
    await render('User.nameUpdated')
    const downstream = [...container.querySelectorAll('.flow-edge.downstream')].map((e) =>
      e.getAttribute('data-edge'),
    )
    expect(downstream).toEqual([
      'subject:User.nameUpdated→group:blogs.updateAuthorName',
      'group:blogs.updateAuthorName→subject:Blog.authorUpdated',
    ])
    const selected = container.querySelector('[aria-pressed="true"]')!
    expect(selected.getAttribute('aria-label')).toBe('Subject User.nameUpdated')
    expect(container.querySelector('svg')!.classList.contains('has-selection')).toBe(true)
  })

  it('draws at the layout size with a viewBox of it, at scale 1 before it knows its width', async () => {
    const { layout } = await render()
    const svg = container.querySelector('svg.flow-graph')!
    expect(svg.getAttribute('viewBox')).toBe(`0 0 ${layout.width} ${layout.height}`)
    expect(svg.getAttribute('width')).toBe(String(layout.width))
  })
})
