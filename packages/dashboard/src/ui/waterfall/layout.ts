// The operation page's waterfall, laid out: which rows, in which order, and where each bar sits
// on the time axis. Pure: the component only draws what this returns.
import type { Chain, ChainEvent } from '../api.ts'

/** A span on the axis: `from` and `to` as fractions of it (0 at the start, 1 at the end). */
export interface Span {
  from: number
  to: number
  /** How long it took, in ms. */
  ms: number
}

/** One run of a consumer group's handler on the event. */
export interface AttemptBar extends Omit<Span, 'ms'> {
  /** How long it ran; null when no start was recorded. */
  ms: number | null
  /** JetStream's delivery count; null on ledger entries older than the timings. */
  attempt: number | null
  outcome: 'handled' | 'failed'
  error?: string
  /** No start was recorded: drawn as a point at its end. */
  point: boolean
  startedAt: string | null
  endedAt: string
}

/**
 * Where a consumer group stands with the event: it finished it (`handled`), it gave it up to the
 * DLQ and the entry is open (`dlq`), someone closed that entry without a redrive (`discarded`,
 * `resolved`), or it failed and has not finished it (`retrying`: retries, or a redrive, under way).
 */
export type GroupState = 'handled' | 'retrying' | 'dlq' | 'discarded' | 'resolved'

export interface EventRow {
  kind: 'event'
  key: string
  event: ChainEvent
  /** 0 for an event of the operation, 1 for its handlers' events, … */
  depth: number
  /** Recorded → published; null while it waits in the outbox. */
  publish: Span | null
  /** Where the event was recorded, for one not yet published. */
  createdAt: number
}

export interface GroupRow {
  kind: 'group'
  key: string
  eventId: string
  consumerGroup: string
  depth: number
  state: GroupState
  attempts: AttemptBar[]
  /** The waits between one attempt's end and the next one's start: the retry backoff. */
  waits: Span[]
  /** How many deliveries failed (the failure record's count). */
  failures: number
  lastError: string | null
  /** From the event's creation to the handled run's end. */
  finishedAfterMs: number | null
}

export type WaterfallRow = EventRow | GroupRow

export interface Tick {
  /** Fraction of the axis. */
  at: number
  /** Time since the operation started, in ms. */
  ms: number
}

export interface WaterfallLayout {
  /** The operation's start and the last time the chain knows of (epoch ms). */
  start: number
  end: number
  rows: WaterfallRow[]
  ticks: Tick[]
}

const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000]
  .concat([60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000])
  .concat([21_600_000, 43_200_000, 86_400_000])

/** Tick marks at a round step, at most `most` of them after 0. */
export function ticksFor(spanMs: number, most = 6): Tick[] {
  const span = Math.max(spanMs, 1)
  const step = steps.find((s) => span / s <= most) ?? Math.ceil(span / most)
  const ticks: Tick[] = []
  for (let ms = 0; ms <= span; ms += step) ticks.push({ at: ms / span, ms })
  return ticks
}

const time = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Number.NaN)

/**
 * The events in tree order (each after its parent, siblings by creation), each followed by its
 * consumer groups (alphabetical), then its children. An event whose parent is not in the chain
 * (an older record, or a parent still on its way) starts a tree of its own.
 */
function treeOrder(chain: Chain): { event: ChainEvent; depth: number }[] {
  const ids = new Set(chain.events.map((e) => e.id))
  const children = new Map<string, ChainEvent[]>()
  for (const event of chain.events) {
    const parent = ids.has(event.parentId) && event.parentId !== event.id ? event.parentId : ''
    children.set(parent, [...(children.get(parent) ?? []), event])
  }
  const ordered: { event: ChainEvent; depth: number }[] = []
  const seen = new Set<string>()
  const visit = (parent: string, depth: number) => {
    const siblings = [...(children.get(parent) ?? [])].sort(
      (a, b) => time(a.createdAt) - time(b.createdAt) || a.id.localeCompare(b.id),
    )
    for (const event of siblings) {
      if (seen.has(event.id)) continue // a cycle of parent ids never loops
      seen.add(event.id)
      ordered.push({ event, depth })
      visit(event.id, depth + 1)
    }
  }
  visit('', 0)
  // Events only reachable through a cycle (each the other's parent) still show, at the top.
  for (const event of chain.events) if (!seen.has(event.id)) visit(event.parentId, 0)
  return ordered
}

/** Every time the chain records, for the axis's end. */
function timesOf(chain: Chain): number[] {
  return chain.events.flatMap((e) => [
    time(e.createdAt),
    time(e.publishedAt),
    ...e.attempts.flatMap((a) => [time(a.startedAt), time(a.endedAt)]),
  ])
}

/** The waterfall of a chain: rows and bars as fractions of the operation's time so far. */
export function waterfallLayout(chain: Chain): WaterfallLayout {
  const start = time(chain.startedAt)
  const known = [start, ...timesOf(chain)].filter((t) => !Number.isNaN(t))
  const first = Math.min(...known)
  const end = Math.max(...known)
  // An event recorded before its operation (clock skew between machines) widens the axis.
  const axisStart = Number.isNaN(start) ? first : Math.min(start, first)
  const span = Math.max(end - axisStart, 1)
  const at = (t: number) => (t - axisStart) / span
  const bar = (from: number, to: number): Span => ({
    from: at(from),
    to: at(Math.max(from, to)),
    ms: Math.max(0, to - from),
  })

  const rows: WaterfallRow[] = []
  for (const { event, depth } of treeOrder(chain)) {
    const createdAt = time(event.createdAt)
    const publishedAt = time(event.publishedAt)
    rows.push({
      kind: 'event',
      key: `event:${event.id}`,
      event,
      depth,
      publish: Number.isNaN(publishedAt) ? null : bar(createdAt, publishedAt),
      createdAt: at(createdAt),
    })
    for (const group of groupsOf(event)) {
      const attempts = event.attempts
        .filter((a) => a.consumerGroup === group)
        .sort((a, b) => time(a.endedAt) - time(b.endedAt))
      const bars = attempts.map((a): AttemptBar => {
        const ended = time(a.endedAt)
        const started = time(a.startedAt)
        const point = Number.isNaN(started)
        return {
          ...(point ? { from: at(ended), to: at(ended), ms: null } : bar(started, ended)),
          attempt: a.attempt,
          outcome: a.outcome,
          ...(a.error !== undefined ? { error: a.error } : {}),
          point,
          startedAt: a.startedAt,
          endedAt: a.endedAt,
        }
      })
      const waits = attempts.slice(1).flatMap((a, i) => {
        const previousEnd = time(attempts[i]!.endedAt)
        const next = time(a.startedAt)
        return !Number.isNaN(next) && next > previousEnd ? [bar(previousEnd, next)] : []
      })
      const failure = event.failures.find((f) => f.consumerGroup === group)
      const handled = event.handledBy.includes(group)
      const handledRun = attempts.findLast((a) => a.outcome === 'handled')
      rows.push({
        kind: 'group',
        key: `group:${event.id}/${group}`,
        eventId: event.id,
        consumerGroup: group,
        depth,
        state: handled ? 'handled' : groupStateOf(failure?.deadLetterStatus ?? null),
        attempts: bars,
        waits,
        failures: failure?.failures ?? 0,
        lastError: failure?.lastError || null,
        finishedAfterMs: handledRun ? Math.max(0, time(handledRun.endedAt) - createdAt) : null,
      })
    }
  }
  return { start: axisStart, end, rows, ticks: ticksFor(span) }
}

/** The consumer groups that finished, failed or ran the event, alphabetically. */
function groupsOf(event: ChainEvent): string[] {
  return [
    ...new Set([
      ...event.handledBy,
      ...event.failures.map((f) => f.consumerGroup),
      ...event.attempts.map((a) => a.consumerGroup),
    ]),
  ].sort()
}

/** A failed group's state from its latest DLQ entry. */
function groupStateOf(deadLetterStatus: ChainEvent['failures'][number]['deadLetterStatus']) {
  if (deadLetterStatus === 'open') return 'dlq'
  if (deadLetterStatus === 'discarded' || deadLetterStatus === 'resolved') return deadLetterStatus
  return 'retrying'
}
