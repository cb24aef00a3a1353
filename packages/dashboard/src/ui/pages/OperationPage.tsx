import { useState, type ReactNode } from 'react'
import { type Chain, type ChainEvent } from '../api.ts'
import { Dialog } from '../components/Dialog.tsx'
import { time } from '../format.ts'
import { useLive } from '../live.ts'
import { usePageQuery, type PageProps } from '../load.ts'
import { queries } from '../queries.ts'

/** The chain as a tree: the operation, its events, the groups that handled each, their children. */
export function OperationPage({ id, onSignedOut }: PageProps & { id: string }) {
  const live = useLive({ operation: id })
  const { data, error } = usePageQuery(queries.chain(id, live), onSignedOut)
  const [open, setOpen] = useState<ChainEvent | null>(null)
  if (error) return <p role="alert">{error}</p>
  if (!data) return <p className="muted">Loading…</p>
  const chain: Chain = data
  const children = (parentId: string) => chain.events.filter((e) => e.parentId === parentId)
  const node = (event: ChainEvent): ReactNode => (
    <li key={event.id} data-event={event.subject}>
      <button className="event" onClick={() => setOpen(event)} aria-label={`Open ${event.subject}`}>
        <strong>{event.subject}</strong> <span className="muted">v{event.version}</span>{' '}
        <span className="muted">{time(event.createdAt)}</span>
        {event.publishedBy && <span className="muted"> · by {event.publishedBy}</span>}
      </button>
      <div className="groups">
        {event.handledBy.map((g) => (
          <span key={g} className="ok">
            ✓ {g}
          </span>
        ))}
        {event.failures.map((f) => (
          <span key={f.consumerGroup} className="bad" title={f.lastError}>
            ✗ {f.consumerGroup}: {f.failures} failures{f.inDeadLetterQueue ? ' (in the DLQ)' : ''} —{' '}
            {f.lastError}
          </span>
        ))}
      </div>
      {children(event.id).length > 0 && <ul>{children(event.id).map(node)}</ul>}
    </li>
  )
  return (
    <section>
      <h1>
        {chain.name} <span className="muted">{chain.status}</span>
      </h1>
      <p className="muted">
        {chain.id} · {chain.actor ?? 'no actor'} · {time(chain.startedAt)} · {chain.events.length}{' '}
        events
      </p>
      <ul className="tree">
        <li>
          <strong>operation {chain.name}</strong>
          <ul>{children(chain.id).map(node)}</ul>
        </li>
      </ul>
      <Dialog open={open !== null} onClose={() => setOpen(null)} title={open?.subject ?? ''}>
        <pre>{JSON.stringify(open?.data, null, 2)}</pre>
      </Dialog>
    </section>
  )
}
