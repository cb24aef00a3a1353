import { type SubjectRow } from '../api.ts'
import { usePageQuery, type PageProps } from '../load.ts'
import { queries } from '../queries.ts'

/** Publishers → subjects → consumer groups, drawn; then the figures per subject. */
export function Subjects({ onSignedOut }: PageProps) {
  const { data, error } = usePageQuery(queries.subjects(), onSignedOut)
  if (error) return <p role="alert">{error}</p>
  const subjects: SubjectRow[] = data?.subjects ?? []
  const publishers = [...new Set(subjects.flatMap((s) => s.publishers))].sort()
  const consumers = [...new Set(subjects.flatMap((s) => s.consumers))].sort()
  const rowH = 28
  const height = Math.max(publishers.length, subjects.length, consumers.length, 1) * rowH + 20
  const y = (i: number) => 20 + i * rowH
  return (
    <section>
      <h1>Subjects</h1>
      <svg
        role="img"
        aria-label="Who publishes and who consumes each subject"
        width="900"
        height={height}
      >
        {subjects.map((s, si) => (
          <g key={s.subject}>
            {s.publishers.map((p) => (
              <line
                key={p}
                x1={220}
                y1={y(publishers.indexOf(p))}
                x2={340}
                y2={y(si)}
                className="edge"
              />
            ))}
            {s.consumers.map((c) => (
              <line
                key={c}
                x1={560}
                y1={y(si)}
                x2={680}
                y2={y(consumers.indexOf(c))}
                className="edge"
              />
            ))}
          </g>
        ))}
        {publishers.map((p, i) => (
          <text key={p} x={210} y={y(i) + 4} textAnchor="end">
            {p}
          </text>
        ))}
        {subjects.map((s, i) => (
          <text key={s.subject} x={350} y={y(i) + 4} className={s.dlqOpen > 0 ? 'bad' : undefined}>
            {s.subject}
          </text>
        ))}
        {consumers.map((c, i) => (
          <text key={c} x={690} y={y(i) + 4}>
            {c}
          </text>
        ))}
      </svg>
      <table>
        <thead>
          <tr>
            <th>Subject</th>
            <th>Published by</th>
            <th>Consumed by</th>
            <th>Last hour</th>
            <th>Last day</th>
            <th>Failure rate</th>
            <th>In the DLQ</th>
          </tr>
        </thead>
        <tbody>
          {subjects.map((s) => (
            <tr key={s.subject}>
              <td>{s.subject}</td>
              <td>{s.publishers.join(', ')}</td>
              <td>{s.consumers.join(', ') || '—'}</td>
              <td>{s.counts.lastHour}</td>
              <td>{s.counts.lastDay}</td>
              <td className={s.failureRate > 0 ? 'bad' : undefined}>
                {(s.failureRate * 100).toFixed(1)}%
              </td>
              <td className={s.dlqOpen > 0 ? 'bad' : undefined}>{s.dlqOpen}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
