// @vitest-environment happy-dom
import { QueryClientProvider, type QueryClient } from '@tanstack/react-query'
import { act, createElement } from 'react'
import { createRoot, type Root } from 'react-dom/client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { useLive, type LiveTopic } from './live.ts'
import { createQueryClient, livePollMs, queries, queryKeys } from './queries.ts'

// The live hook over a fake EventSource the test drives: notices invalidate the queries they
// name, and the pages' polling interval follows whether the stream is connected.
;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

class FakeEventSource {
  static opened: FakeEventSource[] = []
  listeners = new Map<string, ((e: { data: string }) => void)[]>()
  onerror: (() => void) | null = null
  closed = false
  url: string
  constructor(url: string) {
    this.url = url
    FakeEventSource.opened.push(this)
  }
  addEventListener(type: string, listener: (e: { data: string }) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }
  close() {
    this.closed = true
  }
  emit(type: string, data = '') {
    for (const listener of this.listeners.get(type) ?? []) listener({ data })
  }
}

let client: QueryClient
let root: Root
let container: HTMLElement
let seen: { live: boolean; interval: unknown }[]

beforeEach(() => {
  FakeEventSource.opened = []
  vi.stubGlobal('EventSource', FakeEventSource)
  // Nothing is fetched here: the queries under test are seeded, with no observer.
  vi.stubGlobal(
    'fetch',
    vi.fn(() => new Promise(() => undefined)),
  )
  client = createQueryClient()
  container = document.createElement('div')
  document.body.append(container)
  root = createRoot(container)
  seen = []
})
afterEach(async () => {
  await act(async () => root.unmount())
  container.remove()
  client.clear()
  vi.unstubAllGlobals()
})

function Page({ topic }: { topic: LiveTopic }) {
  const live = useLive(topic)
  const options =
    'dlq' in topic ? queries.dlq({ status: 'open' }, live) : queries.chain(topic.operation, live)
  seen.push({ live, interval: options.refetchInterval })
  return null
}
const render = (topic: LiveTopic) =>
  act(async () =>
    root.render(createElement(QueryClientProvider, { client }, createElement(Page, { topic }))),
  )
const stream = () => FakeEventSource.opened.at(-1)!
const stale = (key: readonly unknown[]) => client.getQueryState(key)?.isInvalidated

describe('live updates in the dashboard', () => {
  it("invalidates the watched operation's chain on its notice, and nothing else", async () => {
    client.setQueryData(queryKeys.chain('op1'), { events: [] })
    client.setQueryData(queryKeys.chain('op2'), { events: [] })
    client.setQueryData(queryKeys.dlq({ status: 'open' }), { entries: [] })
    await render({ operation: 'op1' })
    expect(stream().url).toBe('/api/live?operation=op1')
    await act(async () => stream().emit('ready'))
    await act(async () => stream().emit('change', 'operation:op1'))
    expect(stale(queryKeys.chain('op1'))).toBe(true)
    expect(stale(queryKeys.chain('op2'))).toBe(false)
    expect(stale(queryKeys.dlq({ status: 'open' }))).toBe(false)
  })

  it('invalidates every DLQ list and entry, and the counts, on a dlq notice', async () => {
    client.setQueryData(queryKeys.dlq({ status: 'open' }), { entries: [] })
    client.setQueryData(queryKeys.dlqEntry('e1'), { id: 'e1' })
    client.setQueryData(queryKeys.groups, { consumerGroups: [] })
    client.setQueryData(queryKeys.operations({}), { operations: [] })
    await render({ dlq: true })
    expect(stream().url).toBe('/api/live?dlq=true')
    await act(async () => stream().emit('change', 'dlq'))
    expect(stale(queryKeys.dlq({ status: 'open' }))).toBe(true)
    expect(stale(queryKeys.dlqEntry('e1'))).toBe(true)
    expect(stale(queryKeys.groups)).toBe(true)
    expect(stale(queryKeys.operations({}))).toBe(false)
  })

  it('polls slowly while connected and falls back to the fast poll when the stream errors', async () => {
    await render({ operation: 'op1' })
    expect(seen.at(-1)).toEqual({ live: false, interval: 2_000 })
    await act(async () => stream().emit('ready'))
    expect(seen.at(-1)).toEqual({ live: true, interval: livePollMs })
    await act(async () => stream().onerror!())
    expect(seen.at(-1)).toEqual({ live: false, interval: 2_000 })
    // Reconnected: slow again; signed out (the server ends the stream): fast, and closed.
    await act(async () => stream().emit('ready'))
    expect(seen.at(-1)).toEqual({ live: true, interval: livePollMs })
    await act(async () => stream().emit('end', 'signed out'))
    expect(seen.at(-1)).toEqual({ live: false, interval: 2_000 })
    expect(stream().closed).toBe(true)
  })

  it('falls back on the DLQ list too, and closes the stream when the page goes', async () => {
    await render({ dlq: true })
    await act(async () => stream().emit('ready'))
    expect(seen.at(-1)).toEqual({ live: true, interval: livePollMs })
    await act(async () => stream().onerror!())
    expect(seen.at(-1)).toEqual({ live: false, interval: 5_000 })
    const opened = stream()
    await act(async () => root.unmount())
    expect(opened.closed).toBe(true)
    root = createRoot(container)
  })
})
