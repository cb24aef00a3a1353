import {
  outboxUnpublished,
  withoutChangeState,
  type EventRecord,
  type DlqStatus,
  type EventStore,
  type FailureRecord,
  type ProcessedRecord,
} from './event-store.ts'
import type { IndexDeclaration } from './indexes.ts'

/**
 * An operation's events, each once: published or not yet (from the outbox, without a change's
 * state). The outbox is read first: an event moved meanwhile is then found in `events` (it is
 * written there before it leaves the outbox), and one found in both keeps its `events` copy.
 */
export async function recordedEventsOf(
  store: EventStore,
  operationId: string,
): Promise<EventRecord[]> {
  const pending = await store.outbox
    .find({ operationId, ...outboxUnpublished }, withoutChangeState)
    .toArray()
  const published = await store.events.find({ operationId }).toArray()
  const ids = new Set(published.map((e) => e._id))
  return [...published, ...pending.filter((e) => !ids.has(e._id))]
}

/** One event: from `events`, or from the outbox while it is not yet published (read first, as above). */
export async function recordedEvent(store: EventStore, id: string): Promise<EventRecord | null> {
  const pending = await store.outbox.findOne({ _id: id, ...outboxUnpublished }, withoutChangeState)
  return (await store.events.findOne({ _id: id })) ?? pending
}

/**
 * The indexes the chain's reads use on MongoDB: every read is an equality on the operation.
 * FerretDB filters these equalities inside PostgreSQL (checked by `indexes.int.spec.ts`), so a
 * chain costs what the collections hold: retention keeps that bounded (docs/reads.md).
 */
export const chainIndexes: readonly IndexDeclaration[] = [
  { collection: 'events', keys: { operationId: 1 }, serves: 'an operation’s published events' },
  { collection: 'outbox', keys: { operationId: 1 }, serves: 'an operation’s unpublished events' },
  {
    collection: 'processed',
    keys: { operationId: 1 },
    serves: 'who finished an operation’s events',
  },
  { collection: 'failures', keys: { operationId: 1 }, serves: 'an operation’s failed deliveries' },
  { collection: 'dlq', keys: { operationId: 1 }, serves: 'an operation’s DLQ entries' },
]

/**
 * An operation and its chain so far, from the event store (the gateway's `operation(id)`, the
 * admin API's `/api/operations/<id>/chain`): every event with its parent, the
 * consumer groups that finished it (processed ledger) and its failures (with an open DLQ entry or not).
 * Six reads, each by `_id` or by equality on the operation, run side by side.
 */
export async function operationChain(store: EventStore, operationId: string) {
  const [operation, recorded, processed, failures, dead] = await Promise.all([
    store.operations.findOne({ _id: operationId }),
    recordedEventsOf(store, operationId),
    store.processed
      .find({ operationId }, { projection: { _id: 1, attempt: 1, startedAt: 1, processedAt: 1 } })
      .toArray(),
    store.failures.find({ operationId }).toArray(),
    store.dlq
      .find(
        { operationId },
        { projection: { eventId: 1, consumerGroup: 1, status: 1, createdAt: 1 } },
      )
      .toArray(),
  ])
  if (!operation) return null
  const byId = new Map(recorded.map((e) => [e._id, e]))
  // Each event and group's latest DLQ entry: a redrive that failed again opens a newer one.
  const lastEntry = new Map<string, DlqStatus>()
  for (const d of [...dead].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()))
    lastEntry.set(`${d.eventId}/${d.consumerGroup}`, d.status)
  const events = [...byId.values()]
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
    .map((event) => ({
      id: event._id,
      subject: event.subject,
      version: event.version,
      parentId: event.parentId,
      publishedBy: event.publishedBy.consumerGroup ?? null,
      createdAt: event.createdAt.toISOString(),
      publishedAt: event.publishedAt?.toISOString() ?? null,
      data: event.data,
      handledBy: processed
        .filter((p) => p._id.startsWith(`${event._id}/`))
        .map((p) => p._id.slice(event._id.length + 1))
        .sort(),
      failures: failures
        .filter((f) => f.eventId === event._id)
        .map((f) => ({
          consumerGroup: f.consumerGroup,
          failures: f.failures,
          lastError: f.attempts.at(-1)?.message ?? '',
          inDeadLetterQueue: lastEntry.get(`${f.eventId}/${f.consumerGroup}`) === 'open',
          /** Its latest DLQ entry's status (`open`, `redriven`, `discarded`, `resolved`); null: none. */
          deadLetterStatus: lastEntry.get(`${f.eventId}/${f.consumerGroup}`) ?? null,
        })),
      attempts: attemptsOf(
        event._id,
        processed,
        failures.filter((f) => f.eventId === event._id),
      ),
    }))
  return {
    id: operation._id,
    name: operation.name,
    status: operation.status,
    actor: actorText(operation.actor),
    startedAt: operation.startedAt.toISOString(),
    events,
  }
}

/** One run of a consumer group's handler on an event, as the timeline shows it. */
export interface AttemptTiming {
  consumerGroup: string
  /** JetStream's delivery count; absent on ledger entries written before timings were kept. */
  attempt: number | null
  /** When the run started; null where it was not recorded (a crash left the attempt, or older entries). */
  startedAt: string | null
  /** When it finished (ledger entry) or failed. */
  endedAt: string
  outcome: 'handled' | 'failed'
  /** The failure's message. */
  error?: string
}

/**
 * Every run of every consumer group on one event, in the order they ended: each failed attempt
 * (from its failure record) and the run that finished it (from its ledger entry).
 */
function attemptsOf(
  eventId: string,
  processed: Pick<ProcessedRecord, '_id' | 'attempt' | 'startedAt' | 'processedAt'>[],
  failures: FailureRecord[],
): AttemptTiming[] {
  const failed = failures.flatMap((f) =>
    f.attempts.map((a): AttemptTiming => ({
      consumerGroup: f.consumerGroup,
      attempt: a.attempt,
      startedAt: a.startedAt?.toISOString() ?? null,
      endedAt: a.at.toISOString(),
      outcome: 'failed',
      error: a.message,
    })),
  )
  const handled = processed
    .filter((p) => p._id.startsWith(`${eventId}/`))
    .map((p): AttemptTiming => ({
      consumerGroup: p._id.slice(eventId.length + 1),
      attempt: p.attempt ?? null,
      startedAt: p.startedAt?.toISOString() ?? null,
      endedAt: p.processedAt.toISOString(),
      outcome: 'handled',
    }))
  return [...failed, ...handled].sort((a, b) => a.endedAt.localeCompare(b.endedAt))
}

function actorText(actor: unknown): string | null {
  if (actor === null || actor === undefined) return null
  return typeof actor === 'string' ? actor : JSON.stringify(actor)
}

/** An operation's chain, as `operationChain` returns it. */
export type OperationChain = NonNullable<Awaited<ReturnType<typeof operationChain>>>
