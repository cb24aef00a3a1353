// Live updates: the admin server's notices (GET /api/live, Server-Sent Events) invalidate the
// queries they name; while the stream is down, the pages poll as before.
import { useQueryClient, type QueryClient } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { dlqActionChanges, queryKeys } from './queries.ts'

/** What a page listens to: the DLQ, or one operation's chain. */
export type LiveTopic = { dlq: true } | { operation: string }

/** The queries a notice (`dlq`, `operation:<id>`) says are stale: the same as after an action. */
export function invalidateForNotice(client: QueryClient, notice: string) {
  const keys = notice.startsWith('operation:')
    ? [queryKeys.chain(notice.slice('operation:'.length))]
    : notice === 'dlq'
      ? dlqActionChanges
      : []
  return Promise.all(keys.map((queryKey) => client.invalidateQueries({ queryKey })))
}

/**
 * Listens to `topic` while the page is shown; true while the stream is connected (the page may
 * then poll slowly), false before it opens and after it fails (the page polls as before).
 */
export function useLive(topic: LiveTopic): boolean {
  const client = useQueryClient()
  const [connected, setConnected] = useState(false)
  const query = 'dlq' in topic ? 'dlq=true' : `operation=${encodeURIComponent(topic.operation)}`
  useEffect(() => {
    if (typeof EventSource === 'undefined') return
    const source = new EventSource(`/api/live?${query}`)
    source.addEventListener('ready', () => setConnected(true))
    source.addEventListener('change', (e) => void invalidateForNotice(client, e.data as string))
    source.addEventListener('end', () => {
      source.close()
      setConnected(false)
    })
    // The browser reconnects by itself; until it has, polling is back.
    source.onerror = () => setConnected(false)
    return () => {
      source.close()
      setConnected(false)
    }
  }, [client, query])
  return connected
}
