import { useState } from 'react'
import { api, type DlqEntry } from '../api.ts'
import { UnsignedMarker } from '../components/UnsignedMarker.tsx'
import { time } from '../format.ts'
import { useLoad, type PageProps } from '../load.ts'
import { dlqEntryHref } from '../route.ts'

export function Dlq({ onSignedOut }: PageProps) {
  const [status, setStatus] = useState('open')
  const [consumerGroup, setGroup] = useState('')
  const [eventId, setEventId] = useState('')
  const { data, error } = useLoad(
    () => api.dlq({ status, consumerGroup, eventId }),
    [status, consumerGroup, eventId],
    onSignedOut,
    5_000,
  )
  return (
    <section>
      <h1>Dead letter queue</h1>
      <label>
        Status{' '}
        <select value={status} onChange={(e) => setStatus(e.target.value)}>
          {['open', 'redriven', 'discarded', 'resolved', ''].map((s) => (
            <option key={s} value={s}>
              {s || 'any'}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        Consumer group <input value={consumerGroup} onChange={(e) => setGroup(e.target.value)} />
      </label>{' '}
      <label>
        Event id <input value={eventId} onChange={(e) => setEventId(e.target.value)} />
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
    </section>
  )
}
