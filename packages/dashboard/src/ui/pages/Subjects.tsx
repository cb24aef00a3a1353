import { useMemo } from 'react'
import { type SubjectRow } from '../api.ts'
import { ChainSummary, windowWords } from '../flow/ChainSummary.tsx'
import { downstreamOf } from '../flow/downstream.ts'
import { FlowGraph } from '../flow/FlowGraph.tsx'
import { FlowLegend } from '../flow/FlowLegend.tsx'
import { layoutFlow } from '../flow/layout.ts'
import { browserTextWidth } from '../flow/text-width.ts'
import type { FlowWindow } from '../flow/types.ts'
import { usePageQuery, type PageProps } from '../load.ts'
import { queries } from '../queries.ts'
import { hashOf, useRouteQuery } from '../route.ts'
import '../flow/flow.css'

const windows: { value: FlowWindow; label: string }[] = [
  { value: '15m', label: '15 min' },
  { value: '1h', label: '1 hour' },
  { value: '6h', label: '6 hours' },
  { value: '24h', label: '24 hours' },
]
const defaultWindow: FlowWindow = '1h'

/** The window the hash names (`?window=6h`), or the default for a missing or unknown one. */
function windowOf(value: string | null): FlowWindow {
  return windows.find((w) => w.value === value)?.value ?? defaultWindow
}

/**
 * The flow of each subject: publishers → subjects → consumer groups → the subjects they emit,
 * laid out as a graph with rates and failures for a window; a selected subject (`#/subjects/<s>`)
 * shows what follows it. Below, the figures of each subject.
 */
export function Subjects({ id, onSignedOut }: PageProps & { id?: string }) {
  const query = useRouteQuery()
  const flowWindow = windowOf(query.get('window'))
  // The window stays in the address only when chosen: a plain #/subjects is the default.
  const windowParam = query.get('window') ? flowWindow : undefined
  const flow = usePageQuery(queries.flow(flowWindow), onSignedOut)
  const figures = usePageQuery(queries.subjects(), onSignedOut)
  const measure = useMemo(browserTextWidth, [])
  const layout = useMemo(
    () => (flow.data ? layoutFlow(flow.data, measure) : null),
    [flow.data, measure],
  )
  const downstream = useMemo(
    () => (id && flow.data ? downstreamOf(flow.data.edges, `subject:${id}`) : null),
    [id, flow.data],
  )
  const hrefOf = (subject: string | undefined, w = windowParam) =>
    hashOf(subject ? ['subjects', subject] : ['subjects'], { window: w })
  const select = (subject: string) => {
    window.location.hash = hrefOf(subject)
  }
  const subjects: SubjectRow[] = figures.data?.subjects ?? []
  return (
    <section className="flow-page">
      <h1>Subjects</h1>
      <div className="flow-toolbar">
        <p className="muted">
          Who publishes each subject, which consumer groups handle it and what they emit, in{' '}
          {windowWords[flowWindow]}. Select a subject to see what follows it.
        </p>
        <div role="group" aria-label="Window" className="flow-windows">
          {windows.map((w) => (
            <a
              key={w.value}
              href={hrefOf(id, w.value === defaultWindow ? undefined : w.value)}
              aria-current={w.value === flowWindow ? 'true' : undefined}
            >
              {w.label}
            </a>
          ))}
        </div>
      </div>
      {flow.error && <p role="alert">{flow.error}</p>}
      <div className="flow-body">
        <div className="flow-main">
          {layout ? (
            <FlowGraph layout={layout} selected={id} downstream={downstream} onSelect={select} />
          ) : (
            !flow.error && <p className="muted">Loading…</p>
          )}
          {layout && layout.nodes.length === 0 && (
            <p className="muted">No subject is published or handled yet.</p>
          )}
        </div>
        <aside className="flow-side">
          {id ? (
            <>
              <ChainSummary subject={id} window={flowWindow} graph={flow.data} />
              <a href={hrefOf(undefined)}>Clear the selection</a>
            </>
          ) : (
            <p className="muted">Select a subject in the graph or the table.</p>
          )}
          <FlowLegend />
        </aside>
      </div>
      <h2>Each subject</h2>
      {figures.error && <p role="alert">{figures.error}</p>}
      <table>
        <thead>
          <tr>
            <th>Subject</th>
            <th>Published by</th>
            <th>Consumed by</th>
            <th>Last hour</th>
            <th>Last day</th>
            <th title="Failure records (an event that failed at least once in a consumer group) per event of the subject kept">
              Failures per event
            </th>
            <th>In the DLQ</th>
          </tr>
        </thead>
        <tbody>
          {subjects.map((s) => (
            <tr
              key={s.subject}
              className={s.subject === id ? 'current' : undefined}
              onClick={(e) => {
                // The row selects, like its link; a click on the link itself needs no more.
                if (!(e.target instanceof HTMLAnchorElement)) select(s.subject)
              }}
            >
              <td>
                <a href={hrefOf(s.subject)} aria-current={s.subject === id ? 'true' : undefined}>
                  {s.subject}
                </a>
              </td>
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
