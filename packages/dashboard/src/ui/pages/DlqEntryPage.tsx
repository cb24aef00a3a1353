import { useState } from 'react'
import { type DlqActionName, type DlqCycle, type DlqEntry, type DlqEntryDetail } from '../api.ts'
import { Dialog } from '../components/Dialog.tsx'
import { Time } from '../components/Time.tsx'
import { UnsignedMarker } from '../components/UnsignedMarker.tsx'
import { pretty } from '../format.ts'
import { useLive } from '../live.ts'
import { usePageQuery, type PageProps } from '../load.ts'
import { queries, useDlqAction } from '../queries.ts'
import { dlqEntryHref } from '../route.ts'

/** The body as text when it is UTF-8 (JSON indented); otherwise its exact bytes in base64. */
function Payload({ entry }: { entry: DlqEntry }) {
  if (entry.payload !== null) return <pre data-testid="dlq-payload">{pretty(entry.payload)}</pre>
  return (
    <>
      <p className="bad">The payload is not UTF-8: its bytes, in base64.</p>
      <pre data-testid="dlq-payload-base64">{entry.payloadBase64}</pre>
    </>
  )
}

/** The header lines as received, in order (a name may repeat). */
function HeaderRows({ headers }: { headers: DlqEntry['headers'] }) {
  if (headers.length === 0) return <p className="muted">The message had no headers.</p>
  return (
    <table aria-label="Headers">
      <thead>
        <tr>
          <th>Name</th>
          <th>Value</th>
        </tr>
      </thead>
      <tbody>
        {headers.map((h, i) => (
          <tr key={i}>
            <td>
              <code>{h.name}</code>
            </td>
            <td className="value">{h.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** Who closed an entry, when, and why. */
function ActionText({ action: a }: { action: NonNullable<DlqCycle['action']> }) {
  return (
    <>
      {a.action} by {a.by} <Time at={a.at} />
      {a.reason ? `: ${a.reason}` : ''}
    </>
  )
}

/** Every failure cycle of this event in this consumer group, oldest first. */
function Cycles({ cycles, current }: { cycles: DlqCycle[]; current: string }) {
  return (
    <table aria-label="Failure cycles">
      <thead>
        <tr>
          <th>Cycle</th>
          <th>Since</th>
          <th>Status</th>
          <th>Closed by</th>
        </tr>
      </thead>
      <tbody>
        {cycles.map((c, i) => (
          <tr key={c.id} className={c.id === current ? 'current' : undefined}>
            <td>
              <a
                href={dlqEntryHref(c.id)}
                aria-current={c.id === current ? 'page' : undefined}
              >{`cycle ${i + 1}`}</a>
              {c.id === current && <span className="muted"> (this entry)</span>}
            </td>
            <td>
              <Time at={c.createdAt} />
            </td>
            <td>{c.status}</td>
            <td>{c.action ? <ActionText action={c.action} /> : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** Why an entry the framework did not sign has no Redrive: it never reaches a handler. */
function UnsignedNotice() {
  return (
    <p role="note" className="warning" data-testid="dlq-unsigned">
      This message was not signed by the framework: it did not come from a service, so it cannot be
      redriven. Discard it, or publish the event through a service.
    </p>
  )
}

/** Why a read-only key sees no actions. */
function ReadOnlyNotice() {
  return (
    <p role="note" className="muted" data-testid="dlq-read-only">
      You signed in with a read-only key: redrive, discard and resolve need a key with the operate
      role.
    </p>
  )
}

export function DlqEntryPage({
  id,
  onSignedOut,
  readOnly,
}: PageProps & { id: string; readOnly: boolean }) {
  // Refreshed by a DLQ notice (another operator acted on it); it never polled.
  useLive({ dlq: true })
  const { data, error } = usePageQuery(queries.dlqEntry(id), onSignedOut)
  const action = useDlqAction(onSignedOut)
  const [confirm, setConfirm] = useState<DlqActionName | null>(null)
  const [text, setText] = useState('')
  const [result, setResult] = useState<string | null>(null)
  if (error) return <p role="alert">{error}</p>
  if (!data) return <p className="muted">Loading…</p>
  const entry: DlqEntryDetail = data
  // Settled, the action has refetched this entry, the DLQ lists and the counts (queries.ts).
  const act = (name: DlqActionName) =>
    action.mutate(
      { id: entry._id, action: name, text: text || undefined },
      {
        onSuccess: (r) => setResult(`${name}: the entry is ${r.entry.status}`),
        onError: (e) => setResult(e.message),
        onSettled: () => setConfirm(null),
      },
    )
  return (
    <section>
      <h1>
        {entry.consumerGroup} <span className="muted">{entry.subject}</span>
        {!entry.trusted && <UnsignedMarker />}
      </h1>
      <p>
        Status: <strong data-testid="dlq-status">{entry.status}</strong> · event {entry.eventId}
        {entry.operationId && (
          <>
            {' '}
            · <a href={`#/operations/${encodeURIComponent(entry.operationId)}`}>its operation</a>
          </>
        )}
      </p>
      {entry.redriveOf && (
        <p>
          A redrive of <a href={dlqEntryHref(entry.redriveOf)}>the earlier entry</a> that failed
          again.
        </p>
      )}
      {entry.ordering && (
        <p data-testid="dlq-ordering">
          Ordered: partition {entry.ordering.partition}, key {entry.ordering.partitionKey}. Later
          events of its key were handled after it; a redrive delivers it after them.
        </p>
      )}
      {!entry.trusted && <UnsignedNotice />}
      <p className="bad">{entry.reason}</p>
      {entry.status === 'open' && readOnly && <ReadOnlyNotice />}
      {entry.status === 'open' && !readOnly && (
        <p>
          {entry.trusted && (
            <>
              <button onClick={() => setConfirm('redrive')}>Redrive</button>{' '}
            </>
          )}
          <button onClick={() => setConfirm('discard')}>Discard</button>{' '}
          <button onClick={() => setConfirm('resolve')}>Resolve</button>
        </p>
      )}
      {result && <p role="status">{result}</p>}
      <h2>Payload</h2>
      <Payload entry={entry} />
      <h2>Headers</h2>
      <HeaderRows headers={entry.headers} />
      <h2>Attempts</h2>
      <ol>
        {entry.attempts.map((a) => (
          <li key={a.attempt} className="bad">
            <Time at={a.at} />: {a.message}
          </li>
        ))}
      </ol>
      {entry.history && entry.history.length > 0 && (
        <>
          <h2>History</h2>
          <ul>
            {entry.history.map((h, i) => (
              <li key={i}>
                <ActionText action={h} />
              </li>
            ))}
          </ul>
        </>
      )}
      <h2>Failure cycles</h2>
      <p className="muted">Every time this event failed in {entry.consumerGroup}, oldest first.</p>
      <Cycles cycles={entry.cycles} current={entry._id} />
      <Dialog
        open={confirm !== null}
        onClose={() => setConfirm(null)}
        title={`${confirm ?? ''} this entry?`}
      >
        <p>
          {confirm === 'redrive' && `Deliver the event again to ${entry.consumerGroup} only.`}
          {confirm === 'discard' && 'Close it without delivering it again. Say why:'}
          {confirm === 'resolve' && 'Mark it fixed by hand. A note (optional):'}
        </p>
        {confirm !== 'redrive' && (
          <input
            aria-label="reason or note"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        )}
        <button onClick={() => confirm && act(confirm)}>Yes, {confirm}</button>
      </Dialog>
    </section>
  )
}
