import { useState } from 'react'
import { type DlqEntry } from '../api.ts'
import { Dialog } from '../components/Dialog.tsx'
import { Pager, usePages } from '../components/Pager.tsx'
import { Time } from '../components/Time.tsx'
import { UnsignedMarker } from '../components/UnsignedMarker.tsx'
import { useHashFilters } from '../hash-filters.ts'
import { useLive } from '../live.ts'
import { usePageQuery, type PageProps } from '../load.ts'
import { queries, useBulkRedrive } from '../queries.ts'
import { dlqEntryHref } from '../route.ts'

/** The filters the hash carries (`#/dlq?consumerGroup=…&subject=…`): a Slack alert links so. */
export const dlqFilterKeys = ['status', 'consumerGroup', 'subject', 'eventId'] as const
const statuses = ['open', 'redriven', 'discarded', 'resolved', 'any'] as const

/** The status the list shows: open unless the hash says another (`any`: every status). */
const statusOf = (status: string) => (statuses.some((s) => s === status) ? status : 'open')

/**
 * Redrives every open entry the filter selects, after a confirmation: for an operator key, once
 * the filter narrows the list (the API refuses a filter that narrows nothing).
 */
function BulkRedrive({
  selection,
  onSignedOut,
}: {
  selection: { consumerGroup?: string; subject?: string; eventId?: string }
  onSignedOut: () => void
}) {
  const redrive = useBulkRedrive(onSignedOut)
  const [confirm, setConfirm] = useState(false)
  const [result, setResult] = useState<string | null>(null)
  const described = Object.entries(selection)
    .map(([field, value]) => `${field} ${value}`)
    .join(', ')
  const run = () =>
    redrive.mutate(selection, {
      onSuccess: (r) =>
        setResult(
          `redrove ${r.redriven.length} of ${r.total}` +
            (r.refused.length > 0
              ? `; refused ${r.refused.length}: ${r.refused.map((x) => x.reason).join('; ')}`
              : ''),
        ),
      onError: (e) => setResult(e.message),
      onSettled: () => setConfirm(false),
    })
  return (
    <>
      <button onClick={() => setConfirm(true)}>Redrive all open entries of this filter</button>
      {result && <p role="status">{result}</p>}
      <Dialog open={confirm} onClose={() => setConfirm(false)} title="Redrive these entries?">
        <p>
          Deliver every open entry with {described} again, each to its own consumer group. Entries
          the framework did not sign are refused.
        </p>
        <button onClick={run} disabled={redrive.isPending}>
          Yes, redrive them
        </button>
      </Dialog>
    </>
  )
}

export function Dlq({ onSignedOut, readOnly }: PageProps & { readOnly: boolean }) {
  const [filters, setFilters] = useHashFilters('dlq', dlqFilterKeys)
  const status = statusOf(filters.status)
  const { consumerGroup, subject, eventId } = filters
  const [pages, setPages] = usePages(JSON.stringify(filters))
  const before = pages.at(-1)
  const limit = 50
  const live = useLive({ dlq: true })
  const query = {
    status: status === 'any' ? undefined : status,
    consumerGroup,
    subject,
    eventId,
    before,
    limit,
  }
  const { data, error } = usePageQuery(queries.dlq(query, live), onSignedOut)
  const selection = Object.fromEntries(
    Object.entries({ consumerGroup, subject, eventId }).filter(([, v]) => v !== ''),
  )
  const field = (name: 'consumerGroup' | 'subject' | 'eventId', label: string) => (
    <label>
      {label}{' '}
      <input value={filters[name]} onChange={(e) => setFilters({ [name]: e.target.value })} />
    </label>
  )
  return (
    <section>
      <h1>Dead letter queue</h1>
      <p className="filters">
        <label>
          Status{' '}
          <select
            aria-label="Status"
            value={status}
            onChange={(e) => setFilters({ status: e.target.value })}
          >
            {statuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>{' '}
        {field('consumerGroup', 'Consumer group')} {field('subject', 'Subject')}{' '}
        {field('eventId', 'Event id')}
      </p>
      {!readOnly && status === 'open' && Object.keys(selection).length > 0 && (
        <BulkRedrive
          key={JSON.stringify(selection)}
          selection={selection}
          onSignedOut={onSignedOut}
        />
      )}
      {error && <p role="alert">{error}</p>}
      <table aria-label="DLQ entries">
        <thead>
          <tr>
            <th>Consumer group</th>
            <th>Subject</th>
            <th>Reason</th>
            <th>Status</th>
            <th>Since</th>
          </tr>
        </thead>
        <tbody>
          {data?.entries.map((e: DlqEntry) => (
            <tr key={e._id}>
              <td>
                <a href={dlqEntryHref(e._id)}>{e.consumerGroup}</a>
                {!e.trusted && <UnsignedMarker />}
              </td>
              <td>{e.subject}</td>
              <td className="bad">{e.reason}</td>
              <td>{e.status}</td>
              <td>
                <Time at={e.createdAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.entries.length === 0 && (
        <p className="muted">No entries match these filters.</p>
      )}
      <Pager pages={pages} next={data?.next} onPages={setPages} />
    </section>
  )
}
