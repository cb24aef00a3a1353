import { useState } from 'react'
import { type Chain, type ChainEvent } from '../api.ts'
import { Actor } from '../components/Actor.tsx'
import { Dialog } from '../components/Dialog.tsx'
import { Time } from '../components/Time.tsx'
import { useLive } from '../live.ts'
import { usePageQuery, type PageProps } from '../load.ts'
import { queries } from '../queries.ts'
import { Waterfall } from '../waterfall/Waterfall.tsx'

/**
 * One operation: who ran it, when, and its chain as a waterfall (each event, each consumer
 * group's attempts, where each stands). A click on an event opens its payload. Told of changes
 * live, so a chain still running grows without a reload.
 */
export function OperationPage({ id, onSignedOut }: PageProps & { id: string }) {
  const live = useLive({ operation: id })
  const { data, error } = usePageQuery(queries.chain(id, live), onSignedOut)
  const [open, setOpen] = useState<ChainEvent | null>(null)
  if (error) return <p role="alert">{error}</p>
  if (!data) return <p className="muted">Loading…</p>
  const chain: Chain = data
  return (
    <section>
      <h1>
        {chain.name} <span className="muted">{chain.status}</span>
      </h1>
      <p className="muted">
        <code>{chain.id}</code> · <Actor actor={chain.actor} name={chain.actorName} /> · started{' '}
        <Time at={chain.startedAt} /> · {chain.events.length} events
      </p>
      {chain.events.length === 0 ? (
        <p className="muted">No events yet.</p>
      ) : (
        <Waterfall chain={chain} onOpen={setOpen} />
      )}
      <Dialog open={open !== null} onClose={() => setOpen(null)} title={open?.subject ?? ''}>
        <pre>{JSON.stringify(open?.data, null, 2)}</pre>
      </Dialog>
    </section>
  )
}
