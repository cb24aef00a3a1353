import { useId, type CSSProperties } from 'react'
import type { Chain, ChainEvent } from '../api.ts'
import { Time } from '../components/Time.tsx'
import { duration } from '../format.ts'
import { hashOf } from '../route.ts'
import {
  waterfallLayout,
  type AttemptBar,
  type EventRow,
  type GroupRow,
  type Span,
} from './layout.ts'

const percent = (fraction: number) => `${(fraction * 100).toFixed(3)}%`
const place = (span: { from: number; to: number }): CSSProperties => ({
  left: percent(span.from),
  width: percent(span.to - span.from),
})
/** Rows indent under their parent event; a group's row one step further than its event. */
const indent = (depth: number): CSSProperties => ({ paddingLeft: `${0.5 + depth * 1.4}rem` })

/** The DLQ page filtered to one event's entry in one consumer group. */
export const dlqHref = (eventId: string, consumerGroup: string) =>
  hashOf(['dlq'], { eventId, consumerGroup })

/** The tick lines behind a row's bars. */
function Ticks({ ticks }: { ticks: { at: number }[] }) {
  return (
    <>
      {ticks.map((t) => (
        <span key={t.at} className="wf-tick" style={{ left: percent(t.at) }} aria-hidden />
      ))}
    </>
  )
}

function attemptText(a: AttemptBar): string {
  const which = a.attempt === null ? 'a run' : `attempt ${a.attempt}`
  const took = a.ms === null ? 'start not recorded' : `took ${duration(a.ms)}`
  return `${which} ${a.outcome === 'failed' ? 'failed' : 'handled it'} (${took})${a.error ? `: ${a.error}` : ''}`
}

/** One run: a bar (a point when its start was not recorded); its text shows on hover and focus. */
function Attempt({ attempt }: { attempt: AttemptBar }) {
  const tip = useId()
  return (
    <span
      className={`wf-bar wf-attempt ${attempt.outcome}${attempt.point ? ' wf-point' : ''}`}
      style={place(attempt)}
      tabIndex={0}
      aria-describedby={tip}
      data-attempt={attempt.attempt ?? ''}
      data-outcome={attempt.outcome}
    >
      <span role="tooltip" id={tip} className="wf-tip">
        {attemptText(attempt)}
      </span>
    </span>
  )
}

function Wait({ wait }: { wait: Span }) {
  return <span className="wf-wait" style={place(wait)} title={`retry wait: ${duration(wait.ms)}`} />
}

function EventLine({
  row,
  ticks,
  onOpen,
}: {
  row: EventRow
  ticks: { at: number }[]
  onOpen: (event: ChainEvent) => void
}) {
  const { event, publish } = row
  return (
    <tr className="wf-event" data-event={event.subject} data-depth={row.depth}>
      <th scope="row" style={indent(row.depth)}>
        <button
          className="event"
          onClick={() => onOpen(event)}
          aria-label={`Open ${event.subject}`}
        >
          <strong>{event.subject}</strong> <span className="muted">v{event.version}</span>
        </button>
        {event.publishedBy && <span className="muted"> by {event.publishedBy}</span>}
      </th>
      <td className="wf-lane">
        <div className="wf-track">
          <Ticks ticks={ticks} />
          {publish ? (
            <span
              className="wf-bar wf-publish"
              style={place(publish)}
              title={`recorded → published: ${duration(publish.ms)}`}
            />
          ) : (
            <span
              className="wf-bar wf-point wf-pending"
              style={{ left: percent(row.createdAt) }}
              title="recorded, not published yet"
            />
          )}
        </div>
      </td>
      <td className="wf-state">
        {publish ? `published in ${duration(publish.ms)}` : 'not published yet'} ·{' '}
        <Time at={event.createdAt} />
      </td>
    </tr>
  )
}

function GroupState({ row }: { row: GroupRow }) {
  const failed =
    row.failures > 0 ? ` · ${row.failures} failure${row.failures === 1 ? '' : 's'}` : ''
  if (row.state === 'handled')
    return (
      <span className="ok">
        ✓ handled
        {row.finishedAfterMs !== null && ` after ${duration(row.finishedAfterMs)}`}
        {failed}
      </span>
    )
  if (row.state === 'dlq')
    return (
      <span className="bad">
        ✗ in the DLQ{failed} ·{' '}
        <a href={dlqHref(row.eventId, row.consumerGroup)}>open the DLQ entry</a>
      </span>
    )
  if (row.state === 'discarded' || row.state === 'resolved')
    return (
      <span className="muted">
        ✗ {row.state === 'discarded' ? 'given up: its DLQ entry was discarded' : 'resolved by hand'}
        {failed} · <a href={dlqHref(row.eventId, row.consumerGroup)}>its DLQ entries</a>
      </span>
    )
  return (
    <span className="bad" title="Failed and not handled yet: retries (or a redrive) under way">
      ✗ retrying, not handled yet{failed}
    </span>
  )
}

function GroupLine({ row, ticks }: { row: GroupRow; ticks: { at: number }[] }) {
  return (
    <tr
      className="wf-group"
      data-group={row.consumerGroup}
      data-event-id={row.eventId}
      data-state={row.state}
    >
      <th scope="row" style={indent(row.depth + 1)}>
        {row.consumerGroup}
      </th>
      <td className="wf-lane">
        <div className="wf-track">
          <Ticks ticks={ticks} />
          {row.waits.map((w) => (
            <Wait key={w.from} wait={w} />
          ))}
          {row.attempts.map((a) => (
            <Attempt key={`${a.endedAt}/${a.attempt ?? ''}/${a.outcome}`} attempt={a} />
          ))}
        </div>
      </td>
      <td className="wf-state">
        <GroupState row={row} />
        {row.lastError && row.state !== 'handled' && (
          <div className="bad wf-error">{row.lastError}</div>
        )}
      </td>
    </tr>
  )
}

/**
 * The chain over time: from the operation's start to the last time it knows, each event (indented
 * under its parent) from its recording to its publish, then each consumer group's attempts on it,
 * failed ones in red with the gap before the next one (the retry wait), and where the group
 * stands: handled, retrying, or in the DLQ with a link to the entry.
 */
export function Waterfall({
  chain,
  onOpen,
}: {
  chain: Chain
  onOpen: (event: ChainEvent) => void
}) {
  const layout = waterfallLayout(chain)
  return (
    <table className="waterfall" aria-label="Waterfall of the chain">
      <thead>
        <tr>
          <th scope="col">Event / consumer group</th>
          <th scope="col" className="wf-lane">
            <div className="wf-axis" aria-label="time since the operation started">
              {layout.ticks.map((t) => (
                <span key={t.at} className="wf-tick-label" style={{ left: percent(t.at) }}>
                  {t.ms === 0 ? '0' : `+${duration(t.ms)}`}
                </span>
              ))}
            </div>
          </th>
          <th scope="col">Took · state</th>
        </tr>
      </thead>
      <tbody>
        {layout.rows.map((row) =>
          row.kind === 'event' ? (
            <EventLine key={row.key} row={row} ticks={layout.ticks} onOpen={onOpen} />
          ) : (
            <GroupLine key={row.key} row={row} ticks={layout.ticks} />
          ),
        )}
      </tbody>
    </table>
  )
}
