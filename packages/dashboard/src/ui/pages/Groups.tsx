import { type GroupRow } from '../api.ts'
import { Time } from '../components/Time.tsx'
import { usePageQuery, type PageProps } from '../load.ts'
import { queries } from '../queries.ts'
import { hashOf } from '../route.ts'

export function Groups({ onSignedOut }: PageProps) {
  const { data, error } = usePageQuery(queries.groups(), onSignedOut)
  if (error) return <p role="alert">{error}</p>
  return (
    <section>
      <h1>Consumer groups</h1>
      <table aria-label="Consumer groups">
        <thead>
          <tr>
            <th>Group</th>
            <th>Pending</th>
            <th>In flight</th>
            <th>Redelivered</th>
            <th>Last activity</th>
            <th>In the DLQ</th>
          </tr>
        </thead>
        <tbody>
          {data?.consumerGroups.map((g: GroupRow) => (
            <tr key={g.durable} className={g.stuck ? 'stuck' : undefined}>
              <td>
                {g.consumerGroup}
                {g.partitions !== undefined && (
                  <span className="muted"> ordered, {g.partitions} partitions</span>
                )}
                {g.stuck && <strong className="bad"> stuck</strong>}
              </td>
              <td>{g.pending}</td>
              <td>{g.inFlight}</td>
              <td>{g.redelivered}</td>
              <td>
                <Time at={g.lastActive} />
              </td>
              <td className={g.dlqOpen > 0 ? 'bad' : undefined}>
                <a
                  href={hashOf(['dlq'], { consumerGroup: g.consumerGroup })}
                  aria-label={`${g.dlqOpen} open DLQ entries of ${g.consumerGroup}`}
                >
                  {g.dlqOpen}
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
