import { Fragment } from 'react'
import { chainRows } from './chain-steps.ts'
import { chainOf } from './downstream.ts'
import { duration, share } from './figures.ts'
import type { FlowGraphAnswer, FlowWindow } from './types.ts'
import './flow.css'

/** How each window reads in a sentence. */
export const windowWords: Record<FlowWindow, string> = {
  '15m': 'the last 15 minutes',
  '1h': 'the last hour',
  '6h': 'the last 6 hours',
  '24h': 'the last 24 hours',
}

/** A name that may wrap after each dot (`billing.<wbr>onOrderPlaced`), not inside a word. */
const breakableAtDots = (text: string) =>
  text.split('.').map((part, i) => (
    <Fragment key={i}>
      {i > 0 && (
        <>
          .<wbr />
        </>
      )}
      {part}
    </Fragment>
  ))

/** `1 run`, `3 runs`. */
const counted = (count: number, what: string) => `${count} ${what}${count === 1 ? '' : 's'}`

/**
 * What follows a subject in the window: each consumer group that handles it, what each emits,
 * and so on, with counts, the share that failed, and the median and 95th percentile time to
 * each step.
 */
export function ChainSummary({
  subject,
  window,
  graph,
}: {
  subject: string
  window: FlowWindow
  /** The page's graph for the window: the chain is walked from it, not read again. */
  graph: FlowGraphAnswer | null | undefined
}) {
  const data = graph && chainOf(graph, subject)
  const rows = data ? chainRows(subject, data.steps) : []
  return (
    <section className="chain-summary" aria-label={`What follows ${subject}`}>
      <h2>What follows {subject}</h2>
      {!data && <p className="muted">Loading…</p>}
      {data && (
        <>
          <p className="muted">
            {counted(data.count, 'event')} in {windowWords[window]}
            {rows.length === 0 && '; nothing handles it'}
          </p>
          <ol className="chain-steps">
            {rows.map((row, i) => (
              <li
                key={i}
                className={row.failures > 0 ? 'failing' : undefined}
                data-depth={row.depth}
                style={{ marginLeft: `${(row.depth - 1) * 0.6}rem` }}
              >
                <span className="chain-step">{breakableAtDots(row.text)}</span>
                <span className="chain-figures">
                  {counted(row.count, row.kind === 'delivers' ? 'run' : 'event')} ·{' '}
                  <span className={row.failures > 0 ? 'bad' : undefined}>
                    {share(row.failureRate)} failed
                  </span>{' '}
                  · p50 {duration(row.p50Ms)} · p95 {duration(row.p95Ms)}
                </span>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  )
}
