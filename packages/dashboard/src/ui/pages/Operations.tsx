import { useState } from 'react'
import { type OperationRow } from '../api.ts'
import { Pager } from '../components/Pager.tsx'
import { time } from '../format.ts'
import { usePageQuery, type PageProps } from '../load.ts'
import { queries } from '../queries.ts'

export function Operations({ onSignedOut }: PageProps) {
  const [search, setSearch] = useState('')
  // The `before` of each page shown so far: the last is the current page's (undefined: newest).
  const [pages, setPages] = useState<(string | undefined)[]>([undefined])
  const before = pages.at(-1)
  const limit = 20
  const { data, error } = usePageQuery(queries.operations({ search, before, limit }), onSignedOut)
  return (
    <section>
      <h1>Operations</h1>
      <input
        type="search"
        aria-label="Find operations by exact name, actor or id"
        placeholder="Exact name, actor or id"
        value={search}
        onChange={(e) => {
          setSearch(e.target.value)
          setPages([undefined])
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
            <th>Ended</th>
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
              <td className={o.status === 'failed' ? 'bad' : undefined}>{o.status}</td>
              <td>{time(o.startedAt)}</td>
              <td>{time(o.endedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pages={pages} next={data?.next} onPages={setPages} />
    </section>
  )
}
