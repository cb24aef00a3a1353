import { partitionKeyOfData } from '../event-definition.ts'
import { ConcurrencyError, ConfigurationError } from '../errors.ts'
import { groupCommit, groupWrites } from '../group-commit.ts'
import { childEventId, newId } from '../ids.ts'
import type { TraceContext } from '../observe/trace-context.ts'
import { publishSpan } from '../observe/spans.ts'
import { contextOf, type ServiceTracing, type TraceSpan } from '../observe/tracing.ts'
import { wireSubject } from '../publish/wire.ts'
import type { Outbox } from '../publish/outbox.ts'
import type { ParentEvent, Publisher } from '../publish/publisher.ts'
import type { ChangeStep, StateChange } from '../state/entity-state.ts'
import type { EventRecord, EventStore, StreamAppendRecord } from '../store/event-store.ts'
import { insertNew, isDuplicateKey } from '../store/insert-new.ts'
import { streamAppendId } from '../store/keys.ts'
import { currentFormat } from '../version/formats.ts'
import type { StreamReader } from './read.ts'
import type { AnyNewStreamEvent, ResolvedStream, StreamEvent } from './stream-types.ts'

/**
 * Where the stream must be for an append to land: at this position (the one the decision was
 * made on; 0 for a new stream), `no_stream`, `stream_exists` (anywhere past 0) or `any`.
 */
export type ExpectedStreamPosition = number | 'no_stream' | 'stream_exists' | 'any'

export interface AppendOptions {
  /** Default `any`. */
  expectedStreamPosition?: ExpectedStreamPosition
}

export interface AppendResult<Event = StreamEvent> {
  /** The stream's position after the append: the expected position of the next one. */
  position: number
  /**
   * The events appended, as a read returns them; none when an earlier run of the same handler
   * appended them (a redelivery: the stream has them already).
   */
  events: Event[]
}

/** The most events one append takes (one document; FerretDB inserts at most 100 at once). */
export const maxEventsPerAppend = 100

/** Appends with `any` or `stream_exists` that lose this many positions in a row give up. */
const maxPositionsTried = 20

/** Who appends: an operation (new ids), or a handler's run (ids derived from its event). */
export type AppendLineage = (
  | { operationId: string }
  | {
      parent: ParentEvent
      consumerGroup: string
      attempt: number
      /** The run's ordinals, shared with `ctx.publish` (its keys are subjects, ours `<stream>\n<subject>`). */
      ordinals: Map<string, number>
    }
) & { trace?: TraceContext | TraceSpan }

export interface AppendDependencies {
  store: EventStore
  outbox: Outbox
  service: string
  reader: StreamReader
  /** Inserts an append document: true when it is this append's (`appendClaimer`). */
  claim: (append: StreamAppendRecord) => Promise<boolean>
  validate: Publisher['validate']
  onStep?: (step: ChangeStep, change: StateChange<unknown>) => void | Promise<void>
  /** Starts a publish span per appended event; absent when tracing is off. */
  tracing?: { tracer: ServiceTracing; subjectPrefix: string }
}

/**
 * Appends events at the end of one stream, in the steps of every state change
 * (`state/change.ts`), with the append document as the claim:
 *
 * 1. held: the events are recorded in the outbox, marked with their positions (not published);
 * 2. claimed: one insert of the append document (`_id` = stream and position before it) — of
 *    two appends decided on the same position, one lands; the other's records are removed,
 *    nothing of it was published. The document holds every event, so the append lands whole;
 * 3. published: JetStream has the events; their records move to `events`, like any event's.
 *
 * A crash between steps leaves the records in the outbox, and reconciliation (`state/settle.ts`)
 * claims and publishes them, or drops them when another append took the position. Nothing reads
 * on the way, unless the expected position is one this process has not seen end an append.
 */
export async function appendToStream(
  deps: AppendDependencies,
  stream: ResolvedStream,
  events: readonly AnyNewStreamEvent[],
  expected: ExpectedStreamPosition,
  lineage: AppendLineage,
  {
    actualOnConflict = true,
    repeatChecked = false,
  }: {
    /** Read the stream's position for a ConcurrencyError (a caller that reads again anyway: no). */
    actualOnConflict?: boolean
    /** The caller looked for an earlier run's append already (`handleCommand`). */
    repeatChecked?: boolean
  } = {},
): Promise<AppendResult> {
  const { reader } = deps
  const { name } = stream
  checkEvents(stream, events)
  const valid = await Promise.all(
    events.map(async ({ event, data }) => ({ event, data: await deps.validate(event, data) })),
  )
  if (!repeatChecked && (await appendedBefore(reader, stream, lineage, valid))) {
    takeOrdinals(lineage, stream, valid)
    return { position: await reader.head(name), events: [] }
  }
  let after = await startingPosition(reader, name, expected)
  for (let tried = 1; ; tried++) {
    const records = recordsOf(deps.service, stream, valid, after, lineage)
    if (
      await traced(deps, records, lineage, () => holdClaimPublish(deps, stream, after, records))
    ) {
      takeOrdinals(lineage, stream, valid)
      reader.boundaries.add(name, after + records.length)
      return { position: after + records.length, events: records.map(streamEventOf) }
    }
    const final = typeof expected === 'number' || expected === 'no_stream'
    if (final && !actualOnConflict) throw new ConcurrencyError(name, expected)
    const actual = await reader.head(name)
    if (final || tried >= maxPositionsTried)
      throw new ConcurrencyError(name, final ? expected : after, actual)
    after = actual
  }
}

/**
 * A handler's run used these ordinals: its next events of these subjects in this stream take
 * the next. Counted per stream, so what one stream's decision does never moves another's ids.
 */
export function takeOrdinals(
  lineage: AppendLineage,
  stream: ResolvedStream,
  events: readonly AnyNewStreamEvent[],
) {
  if (!('ordinals' in lineage)) return
  for (const { event } of events) {
    const key = ordinalKey(stream, event.subject)
    lineage.ordinals.set(key, (lineage.ordinals.get(key) ?? 0) + 1)
  }
}

/**
 * The ids a handler's run gives these events: derived from (its event, consumer group, stream,
 * subject, ordinal), so the same on every attempt; none for an operation's, which are new.
 */
export function childIdsOf(
  lineage: AppendLineage,
  stream: ResolvedStream,
  events: readonly AnyNewStreamEvent[],
): string[] {
  if (!('ordinals' in lineage)) return []
  const taken = new Map<string, number>()
  return events.map(({ event }) => {
    const key = ordinalKey(stream, event.subject)
    const n = (taken.get(key) ?? 0) + 1
    taken.set(key, n)
    const ordinal = (lineage.ordinals.get(key) ?? 0) + n
    // `@` never occurs in a subject, so these ids never meet ctx.publish's.
    return childEventId(
      lineage.parent.id,
      lineage.consumerGroup,
      `${event.subject}@${stream.name}`,
      ordinal,
    )
  })
}

const ordinalKey = (stream: ResolvedStream, subject: string) => `${stream.name}\n${subject}`

/**
 * Whether a handler's run appended these events before (the same derived ids): on an attempt
 * past the first, or a redelivered event, one lookup; a first delivery cannot have. `known`:
 * events the caller read already (a match there needs no lookup).
 */
export async function appendedBefore(
  reader: StreamReader,
  stream: ResolvedStream,
  lineage: AppendLineage,
  events: readonly AnyNewStreamEvent[],
  known: readonly StreamEvent[] = [],
): Promise<boolean> {
  if (!('ordinals' in lineage)) return false
  const [first] = childIdsOf(lineage, stream, events)
  if (known.some((e) => e.id === first)) return true
  if (lineage.attempt === 1 && !lineage.parent.redelivery) return false
  // Before a fold's snapshot, or archived: the stream's documents keep every event's id.
  return reader.holdsEvent(stream.name, first!)
}

function streamEventOf(record: EventRecord): StreamEvent {
  return {
    id: record._id,
    subject: record.subject,
    version: record.version,
    storedVersion: record.version,
    data: record.data,
    position: record.change!.position,
    operationId: record.operationId,
    parentId: record.parentId,
    createdAt: record.createdAt,
  }
}

function checkEvents(stream: ResolvedStream, events: readonly AnyNewStreamEvent[]) {
  // Not narrowed by Array.isArray (that would type the events any).
  const count: number = Array.isArray(events) ? events.length : 0
  if (count === 0 || count > maxEventsPerAppend)
    throw new RangeError(`an append takes 1 to ${maxEventsPerAppend} events, got ${count}`)
  for (const { event } of events) {
    if (stream.events.get(event?.subject) !== event)
      throw new ConfigurationError(
        `stream type "${stream.type}" does not list ${event?.subject ?? 'this event'} (or lists another definition of it): add it to the type's events`,
      )
  }
}

async function startingPosition(
  reader: StreamReader,
  name: string,
  expected: ExpectedStreamPosition,
): Promise<number> {
  if (expected === 'no_stream') return 0
  if (expected === 'any') return reader.head(name)
  if (expected === 'stream_exists') {
    const head = await reader.head(name)
    if (head === 0) throw new ConcurrencyError(name, 'stream_exists', 0)
    return head
  }
  if (!Number.isSafeInteger(expected) || expected < 0)
    throw new RangeError(
      `expectedStreamPosition must be a position (an integer of 0 or more), no_stream, stream_exists or any; got ${String(expected)}`,
    )
  // A position no append ends at would leave a gap, or cut into an earlier append.
  if (!(await reader.isBoundary(name, expected)))
    throw new ConcurrencyError(name, expected, await reader.head(name))
  return expected
}

function recordsOf(
  service: string,
  stream: ResolvedStream,
  events: readonly AnyNewStreamEvent[],
  after: number,
  lineage: AppendLineage,
): EventRecord[] {
  const createdAt = new Date()
  const trace = contextOf(lineage.trace)
  // A retried run derives the same ids again, so a repeat is found in the stream.
  const childIds = childIdsOf(lineage, stream, events)
  return events.map(({ event, data }, index) => {
    const partitionKey = partitionKeyOfData(event, data)
    let ids: Pick<EventRecord, '_id' | 'operationId' | 'parentId' | 'publishedBy' | 'redelivery'>
    if ('ordinals' in lineage) {
      ids = {
        _id: childIds[index]!,
        operationId: lineage.parent.operationId,
        parentId: lineage.parent.id,
        publishedBy: { service, consumerGroup: lineage.consumerGroup },
        ...(lineage.attempt > 1 || lineage.parent.redelivery
          ? { redelivery: 'retry' as const }
          : {}),
      }
    } else {
      ids = {
        _id: newId(),
        operationId: lineage.operationId,
        parentId: lineage.operationId,
        publishedBy: { service },
      }
    }
    return {
      ...ids,
      subject: event.subject,
      version: event.version,
      data,
      createdAt,
      ...(partitionKey ? { partitionKey } : {}),
      ...(trace ? { trace } : {}),
      change: {
        service,
        type: stream.type,
        key: stream.id,
        position: after + index + 1,
        append: { after, count: events.length },
      },
    }
  })
}

/**
 * Runs the append with a publish span per event (from the record to JetStream's confirmation),
 * each the event's trace context; a lost position ends them as such.
 */
async function traced(
  deps: AppendDependencies,
  records: EventRecord[],
  lineage: AppendLineage,
  append: () => Promise<boolean>,
): Promise<boolean> {
  if (!deps.tracing) return append()
  const { tracer, subjectPrefix } = deps.tracing
  const spans = records.map((record) => {
    const span = tracer.start(
      publishSpan(
        {
          id: record._id,
          subject: record.subject,
          operationId: record.operationId,
          wireSubject: wireSubject(subjectPrefix, record.subject, record.partitionKey),
        },
        lineage.trace,
      ),
    )
    if (span.context) record.trace = span.context
    return span
  })
  let landed: boolean
  try {
    landed = await append()
  } catch (error) {
    for (const span of spans) span.end(error)
    throw error
  }
  for (const span of spans) span.end(landed ? undefined : 'another append took this position')
  return landed
}

/** Holds, claims and publishes one append; false when another append took its position. */
async function holdClaimPublish(
  deps: AppendDependencies,
  stream: ResolvedStream,
  after: number,
  records: EventRecord[],
): Promise<boolean> {
  const step = (name: ChangeStep) =>
    deps.onStep?.(name, {
      type: stream.type,
      key: stream.id,
      position: after + records.length,
      state: undefined,
      eventId: records[0]!._id,
      operationId: records[0]!.operationId,
    })
  const held = await Promise.allSettled(records.map((record) => deps.outbox.hold(record)))
  const mine = records.filter((_, i) => {
    const result = held[i]!
    return result.status === 'fulfilled' && result.value
  })
  if (mine.length < records.length) {
    // Not one of them is claimed, so removing ours loses nothing (and reconciliation drops any
    // part it finds of an append it cannot complete).
    await deps.store.outbox.deleteMany({ _id: { $in: mine.map((r) => r._id) } })
    const failed = held.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
    // Held before under the same ids: a retried handler whose earlier append is not settled.
    throw new Error(
      `an earlier attempt's append of these events to ${stream.name} is not settled yet; it is settled by reconciliation, and this attempt is retried`,
    )
  }
  await step('held')
  if (!(await deps.claim(appendOf(records)))) {
    await deps.store.outbox.deleteMany({ _id: { $in: records.map((r) => r._id) } })
    return false
  }
  await step('claimed')
  const failed = (await deps.outbox.publishRecorded(records)).find((r) => r !== undefined)
  if (failed) throw failed // appended: the relay publishes it
  await step('published')
  return true
}

/**
 * The append document of an append's records (all of them, in position order): the same
 * document whoever builds it, the writer or reconciliation.
 */
export function appendOf(records: EventRecord[]): StreamAppendRecord {
  const { type, key, append } = records[0]!.change!
  const stream = `${type}:${key}`
  return {
    _id: streamAppendId(stream, append!.after),
    format: currentFormat,
    stream,
    from: append!.after + 1,
    to: append!.after + append!.count,
    service: records[0]!.change!.service,
    operationId: records[0]!.operationId,
    events: records.map((r) => ({
      id: r._id,
      subject: r.subject,
      version: r.version,
      data: r.data,
      operationId: r.operationId,
      parentId: r.parentId,
      createdAt: r.createdAt,
    })),
    appendedAt: new Date(),
  }
}

/** Claims appends, concurrent ones in one insert; true when the document landed is this one. */
export function appendClaimer(store: EventStore): (append: StreamAppendRecord) => Promise<boolean> {
  const claims = groupCommit<StreamAppendRecord, boolean>(async (appends) => {
    const { failed, existing } = await insertNew(store.eventStreams, appends)
    return Promise.all(
      appends.map(async (append, i) => {
        if (failed.has(i)) return new Error(`MongoDB did not record the append ${append._id}`)
        return (
          !existing.has(i) ||
          (await appendHolder(store, append._id, append.events[0]!.id)) === 'ours'
        )
      }),
    )
  }, groupWrites)
  return (append) => claims.add(append)
}

/** The claim of one append on its own (reconciliation, off the hot path). */
export async function claimAppend(store: EventStore, append: StreamAppendRecord): Promise<boolean> {
  try {
    await store.eventStreams.insertOne(append)
    return true
  } catch (error) {
    if (!isDuplicateKey(error)) throw error
  }
  return (await appendHolder(store, append._id, append.events[0]!.id)) === 'ours'
}

/** Whether the append document under this id holds the event: ours, another's, or none yet. */
export async function appendHolder(
  store: EventStore,
  appendId: string,
  eventId: string,
): Promise<'ours' | 'theirs' | 'none'> {
  const holder = await store.eventStreams.findOne(
    { _id: appendId },
    { projection: { 'events.id': 1 } },
  )
  if (!holder) return 'none'
  return holder.events.some((e) => e.id === eventId) ? 'ours' : 'theirs'
}
