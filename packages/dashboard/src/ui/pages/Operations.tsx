import { useState } from 'react'
import { api, type OperationRow } from '../api.ts'
import { time } from '../format.ts'
import { useLoad, type PageProps } from '../load.ts'

export function Operations({ onSignedOut }: PageProps) {
  const [search, setSearch] = useState('')
  const [skip, setSkip] = useState(0)
  const limit = 20
  const { data, error } = useLoad(
    () => api.operations({ search, skip, limit }),
    [search, skip],
    onSignedOut,
    5_000,
  )
  return (
    <section>
      <h1>Operations</h1>
      <input
        type="search"
        aria-label="Search operations by name, actor or id"
        placeholder="Search by name, actor or id"
        value={search}
        onChange={(e) => {
          setSearch(e.target.value)
          setSkip(0)
        }}
      />
      {error && <p role="alert">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Actor</th>
            <th>Status</th>
            <th>Started</th>
            <th>Events</th>
            <th>Failures</th>
          </tr>
        </thead>
        <tbody>
          {data?.operations.map((o: OperationRow) => (
            <tr key={o.id}>
              <td>
                <a href={`#/operations/${encodeURIComponent(o.id)}`}>{o.name}</a>
              </td>
              <td>
                {o.actor === null
                  ? '—'
                  : String(typeof o.actor === 'string' ? o.actor : JSON.stringify(o.actor))}
              </td>
              <td>{o.status}</td>
              <td>{time(o.startedAt)}</td>
              <td>{o.events}</td>
              <td className={o.failures > 0 ? 'bad' : undefined}>{o.failures}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <button disabled={skip === 0} onClick={() => setSkip(Math.max(0, skip - limit))}>
          Newer
        </button>{' '}
        <span className="muted">
          {data
            ? `${data.total === 0 ? 0 : skip + 1}–${Math.min(skip + limit, data.total)} of ${data.total}`
            : ''}
        </span>{' '}
        <button
          disabled={!data || skip + limit >= data.total}
          onClick={() => setSkip(skip + limit)}
        >
          Older
        </button>
      </p>
    </section>
  )
}
