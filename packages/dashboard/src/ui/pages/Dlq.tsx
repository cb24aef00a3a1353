import { useState } from 'react'
import { type DlqEntry } from '../api.ts'
import { Pager } from '../components/Pager.tsx'
import { UnsignedMarker } from '../components/UnsignedMarker.tsx'
import { time } from '../format.ts'
import { useLive } from '../live.ts'
import { usePageQuery, type PageProps } from '../load.ts'
import { queries } from '../queries.ts'
import { dlqEntryHref } from '../route.ts'

export function Dlq({ onSignedOut }: PageProps) {
  const [filter, setFilter] = useState({ status: 'open', consumerGroup: '', eventId: '' })
  // The `before` of each page shown so far: the last is the current page's (undefined: newest).
  const [pages, setPages] = useState<(string | undefined)[]>([undefined])
  const before = pages.at(-1)
  const limit = 50
  const live = useLive({ dlq: true })
  const { data, error } = usePageQuery(queries.dlq({ ...filter, before, limit }, live), onSignedOut)
  // A new filter starts again from the newest page.
  const narrow = (change: Partial<typeof filter>) => {
    setFilter({ ...filter, ...change })
    setPages([undefined])
  }
  const { status, consumerGroup, eventId } = filter
  return (
    <section>
      <h1>Dead letter queue</h1>
      <label>
        Status{' '}
        <select value={status} onChange={(e) => narrow({ status: e.target.value })}>
          {['open', 'redriven', 'discarded', 'resolved', ''].map((s) => (
            <option key={s} value={s}>
              {s || 'any'}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        Consumer group{' '}
        <input value={consumerGroup} onChange={(e) => narrow({ consumerGroup: e.target.value })} />
      </label>{' '}
      <label>
        Event id <input value={eventId} onChange={(e) => narrow({ eventId: e.target.value })} />
      </label>
      {error && <p role="alert">{error}</p>}
      <table>
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
              <td>{time(e.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pages={pages} next={data?.next} onPages={setPages} />
    </section>
  )
}
