import { type OperationRow } from '../api.ts'
import { Actor } from '../components/Actor.tsx'
import { Pager, usePages } from '../components/Pager.tsx'
import { Time } from '../components/Time.tsx'
import { useHashFilters } from '../hash-filters.ts'
import { usePageQuery, type PageProps } from '../load.ts'
import { queries } from '../queries.ts'
import { hashOf } from '../route.ts'

/** What the search box (and the header's) takes: each exact, never a pattern. */
export const searchHint = 'Operation id, name or actor, event id or subject (exact)'

export function Operations({ onSignedOut }: PageProps) {
  // In the hash (`#/operations?search=…`): the header's search and links land here searched.
  const [{ search }, setFilters] = useHashFilters('operations', ['search'] as const)
  const [pages, setPages] = usePages(search)
  const before = pages.at(-1)
  const limit = 20
  const { data, error } = usePageQuery(queries.operations({ search, before, limit }), onSignedOut)
  return (
    <section>
      <h1>Operations</h1>
      <input
        type="search"
        className="wide"
        aria-label="Find operations by id, name, actor, event id or subject"
        placeholder={searchHint}
        value={search}
        onChange={(e) => setFilters({ search: e.target.value })}
      />
      {error && <p role="alert">{error}</p>}
      <table aria-label="Operations">
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
            <tr key={o.id} data-operation={o.id}>
              <td>
                <a href={hashOf(['operations', o.id])}>{o.name}</a>
              </td>
              <td>
                <Actor actor={o.actor} name={o.actorName} />
              </td>
              <td className={o.status === 'failed' ? 'bad' : undefined}>{o.status}</td>
              <td>
                <Time at={o.startedAt} />
              </td>
              <td>
                <Time at={o.endedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.operations.length === 0 && (
        <p className="muted">
          {search ? `No operation, event or subject is exactly “${search}”.` : 'No operations yet.'}
        </p>
      )}
      <Pager pages={pages} next={data?.next} onPages={setPages} />
    </section>
  )
}
