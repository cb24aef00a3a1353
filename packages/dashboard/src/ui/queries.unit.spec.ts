// @vitest-environment happy-dom
import { focusManager, QueryClientProvider, type QueryClient } from '@tanstack/react-query'
import { act, createElement, type ReactNode } from 'react'
import { createRoot, type Root } from 'react-dom/client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { usePageQuery } from './load.ts'
import { createQueryClient, queries, queryKeys, useBulkRedrive, useDlqAction } from './queries.ts'

// The real query client, the pages' hooks and the API client, over a fetch whose answers the
// test releases when it likes: late, out of order, or after the request was aborted.
;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

type Call = {
  method: string
  url: string
  signal: AbortSignal | undefined
  answer: (body: unknown, status?: number) => Promise<void>
}

let calls: Call[]
let client: QueryClient
let root: Root
let container: HTMLElement
const onSignedOut = vi.fn()

// Lets the answer travel through fetch, the query cache's notify batch and React.
const settle = () => act(() => new Promise<void>((resolve) => setTimeout(resolve, 10)))

beforeEach(() => {
  calls = []
  vi.stubGlobal(
    'fetch',
    vi.fn(
      (url: string, init: RequestInit = {}) =>
        new Promise((resolve) => {
          calls.push({
            method: init.method ?? 'GET',
            url,
            signal: init.signal ?? undefined,
            // Deliberately ignores the signal: a server's answer can arrive after the abort.
            answer: async (body, status = 200) => {
              resolve({ status, ok: status < 400, json: async () => body })
              await settle()
            },
          })
        }),
    ),
  )
  client = createQueryClient()
  container = document.createElement('div')
  document.body.append(container)
  root = createRoot(container)
})

afterEach(async () => {
  await act(async () => root.unmount())
  container.remove()
  client.clear()
  focusManager.setFocused(undefined)
  vi.unstubAllGlobals()
})

const render = (node: ReactNode) =>
  act(async () => root.render(createElement(QueryClientProvider, { client }, node)))
const shown = () => container.textContent
const pending = (method: string, path: string) =>
  calls.filter((c) => c.method === method && c.url.startsWith(path))

function OperationNames({ search }: { search: string }) {
  const { data } = usePageQuery(queries.operations({ search, limit: 20 }), onSignedOut)
  return data ? data.operations.map((o) => o.name).join(',') : 'loading'
}
const operations = (...names: string[]) => ({
  operations: names.map((name, i) => ({ id: `op${i}`, name })),
  next: null,
})

describe('the operations search', () => {
  it("shows the newer search's answer when the older one arrives after it", async () => {
    await render(createElement(OperationNames, { search: 'userCreate' }))
    await render(createElement(OperationNames, { search: 'userUpdateNames' }))
    const [older, newer] = pending('GET', '/api/operations?')
    expect(older!.url).toContain('search=userCreate')
    expect(newer!.url).toContain('search=userUpdateNames')
    expect(older!.signal?.aborted).toBe(true)
    expect(newer!.signal?.aborted).toBe(false)

    await newer!.answer(operations('userUpdateNames'))
    expect(shown()).toBe('userUpdateNames')
    await older!.answer(operations('userCreate'))
    expect(shown()).toBe('userUpdateNames')
  })

  it("never shows the older search's answer while the newer one is on its way", async () => {
    await render(createElement(OperationNames, { search: 'userCreate' }))
    await render(createElement(OperationNames, { search: 'userUpdateNames' }))
    const [older, newer] = pending('GET', '/api/operations?')
    await older!.answer(operations('userCreate'))
    expect(shown()).toBe('loading')
    await newer!.answer(operations('userUpdateNames'))
    expect(shown()).toBe('userUpdateNames')
  })

  it('keeps the rows on screen while a newer search loads, then replaces them', async () => {
    await render(createElement(OperationNames, { search: '' }))
    await pending('GET', '/api/operations?')[0]!.answer(operations('userCreate', 'blogCreate'))
    await render(createElement(OperationNames, { search: 'blogCreate' }))
    expect(shown()).toBe('userCreate,blogCreate')
    await pending('GET', '/api/operations?')[1]!.answer(operations('blogCreate'))
    expect(shown()).toBe('blogCreate')
  })

  it('aborts the request of a page that is closed', async () => {
    await render(createElement(OperationNames, { search: '' }))
    await act(async () => root.unmount())
    root = createRoot(container)
    expect(pending('GET', '/api/operations?')[0]!.signal?.aborted).toBe(true)
  })
})

describe('polling', () => {
  function Chain() {
    const { data } = usePageQuery(queries.chain('op1'), onSignedOut)
    return data ? `${data.events.length} events` : 'loading'
  }

  it('pauses while the tab is hidden and refetches when it shows again', async () => {
    await render(createElement(Chain))
    await pending('GET', '/api/operations/op1/chain')[0]!.answer({ events: [] })
    focusManager.setFocused(false)
    // The chain polls every 2 s: hidden for longer, it asks nothing.
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, 2_500)))
    expect(pending('GET', '/api/operations/op1/chain')).toHaveLength(1)
    await act(async () => focusManager.setFocused(true))
    expect(pending('GET', '/api/operations/op1/chain')).toHaveLength(2)
  })
})

describe('after a DLQ action', () => {
  // The mutation's `mutate`; its input is checked by the calls below, one shape per hook.
  let mutate: ((input: never) => void) | undefined

  function DlqPages({ bulk }: { bulk: boolean }) {
    const list = usePageQuery(queries.dlq({ status: 'open', limit: 50 }), onSignedOut)
    const entry = usePageQuery(queries.dlqEntry('e1'), onSignedOut)
    const single = useDlqAction(onSignedOut)
    const many = useBulkRedrive(onSignedOut)
    mutate = bulk ? many.mutate : single.mutate
    return `${list.data?.entries.length ?? '-'} open, e1 ${entry.data?.status ?? '-'}`
  }

  const reads = () => [...pending('GET', '/api/dlq?'), ...pending('GET', '/api/dlq/e1')]

  async function showOpenEntry(bulk: boolean) {
    // Counts on other pages, cached but not on screen: the action marks them stale too.
    client.setQueryData(queryKeys.groups, { consumerGroups: [] })
    client.setQueryData(queryKeys.subjects, { subjects: [] })
    await render(createElement(DlqPages, { bulk }))
    await pending('GET', '/api/dlq?')[0]!.answer({ entries: [{ _id: 'e1' }], next: null })
    await pending('GET', '/api/dlq/e1')[0]!.answer({ _id: 'e1', status: 'open' })
    expect(shown()).toBe('1 open, e1 open')
  }

  async function expectRefreshed(status: string) {
    // The list and the entry are asked again at once, with no click on anything.
    expect(reads()).toHaveLength(4)
    await pending('GET', '/api/dlq?')[1]!.answer({ entries: [], next: null })
    await pending('GET', '/api/dlq/e1')[1]!.answer({ _id: 'e1', status })
    expect(shown()).toBe(`0 open, e1 ${status}`)
    expect(client.getQueryState(queryKeys.groups)?.isInvalidated).toBe(true)
    expect(client.getQueryState(queryKeys.subjects)?.isInvalidated).toBe(true)
  }

  for (const [name, status] of [
    ['redrive', 'redriven'],
    ['discard', 'discarded'],
    ['resolve', 'resolved'],
  ] as const) {
    it(`${name} refreshes the DLQ list and the entry`, async () => {
      await showOpenEntry(false)
      await act(async () => mutate!({ id: 'e1', action: name, text: 'why' } as never))
      const [post] = pending('POST', `/api/dlq/e1/${name}`)
      expect(reads()).toHaveLength(2)
      await post!.answer({ entry: { _id: 'e1', status } })
      await expectRefreshed(status)
    })
  }

  it('a refused action refreshes them too: someone else may have acted first', async () => {
    await showOpenEntry(false)
    await act(async () => mutate!({ id: 'e1', action: 'redrive' } as never))
    await pending('POST', '/api/dlq/e1/redrive')[0]!.answer({ error: 'not open' }, 409)
    await expectRefreshed('discarded')
  })

  it('a bulk redrive refreshes them', async () => {
    await showOpenEntry(true)
    await act(async () => mutate!({ consumerGroup: 'blog.onUserNameUpdated' } as never))
    const [post] = pending('POST', '/api/dlq/redrive')
    expect(reads()).toHaveLength(2)
    await post!.answer({ redriven: 1, refused: [] })
    await expectRefreshed('redriven')
  })
})
