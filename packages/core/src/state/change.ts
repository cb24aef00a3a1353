import type { Logger } from 'pino'
import { partitionKeyOfData } from '../event-definition.ts'
import { publishSpan } from '../observe/spans.ts'
import type { TraceContext } from '../observe/trace-context.ts'
import { contextOf, type ServiceTracing, type TraceSpan } from '../observe/tracing.ts'
import { wireSubject } from '../publish/wire.ts'
import { ConcurrencyError } from '../errors.ts'
import { newId } from '../ids.ts'
import type { Publisher } from '../publish/publisher.ts'
import type { Outbox } from '../publish/outbox.ts'
import type {
  ChangeClaimRecord,
  ChangeMark,
  EventRecord,
  EventStore,
} from '../store/event-store.ts'
import { groupCommit, groupWrites } from '../group-commit.ts'
import { insertNew, isDuplicateKey } from '../store/insert-new.ts'
import { changeClaimId } from '../store/keys.ts'
import type {
  ChangeInput,
  ChangeResult,
  ChangeStep,
  EntityState,
  StateChange,
} from './entity-state.ts'
import { currentFormat } from '../version/formats.ts'

/**
 * State and event together, without transactions. A change is one outbox record: the event,
 * marked with the entity's stream position and carrying the state to apply. Its steps:
 *
 * 1. held: the record is written to the outbox (not yet published);
 * 2. claimed: the position is claimed by an insert (`changes`, unique `_id`): of two changes
 *    decided on the same state, one claim lands; the other's record is removed, nothing of it
 *    was applied or published;
 * 3. applied: the service's `apply` stores the state;
 * 4. published: JetStream has the event; the record moves to `events` (without the state).
 *
 * A crash between any two steps leaves the record in the outbox, and reconciliation (`settle.ts`)
 * finishes the change from it: claim, apply, publish. So there is never state without its event
 * (state is applied only after its record and claim exist) nor an event without its state.
 */
export interface ChangeDependencies {
  store: EventStore
  outbox: Outbox
  service: string
  logger: Logger
  /** Claims a record's position (`positionClaimer`: concurrent changes share the insert). */
  claim: (record: EventRecord) => Promise<boolean>
  /** Checks the definition and validates the data, as every publish does. */
  validate: Publisher['validate']
  onStep?: (step: ChangeStep, change: StateChange<unknown>) => void | Promise<void>
  /** Starts a publish span per change's event; absent when tracing is off. */
  tracing?: { tracer: ServiceTracing; subjectPrefix: string }
}

/** Changes that lose this many positions in a row (`onConflict: 'next'`) give up. */
const maxPositionsTried = 100

export async function makeChange<State, Data>(
  deps: ChangeDependencies,
  operationId: string,
  entity: EntityState<State>,
  input: ChangeInput<State, Data>,
  /** The operation's span (or trace): the event's publish belongs to it. */
  trace?: TraceContext | TraceSpan,
): Promise<ChangeResult> {
  const { store, service } = deps
  const stream = `${entity.type}/${input.key}`
  for (let tried = 0; ; tried++) {
    const position = input.expectedPosition + 1 + tried
    const state = input.state(position)
    const mark: ChangeMark = { service, type: entity.type, key: input.key, position, state }
    const eventId = newId()
    const data = await deps.validate(input.event, input.data(position))
    const partitionKey = partitionKeyOfData(input.event, data)
    // From the record to JetStream's confirmation; the event's deliveries belong to it.
    const span = deps.tracing?.tracer.start(
      publishSpan(
        {
          id: eventId,
          subject: input.event.subject,
          operationId,
          wireSubject: wireSubject(deps.tracing.subjectPrefix, input.event.subject, partitionKey),
        },
        trace,
      ),
    )
    const eventTrace = span ? span.context : contextOf(trace)
    const record: EventRecord = {
      _id: eventId,
      subject: input.event.subject,
      version: input.event.version,
      data,
      operationId,
      parentId: operationId,
      publishedBy: { service },
      createdAt: new Date(),
      ...(partitionKey ? { partitionKey } : {}),
      change: mark,
      ...(eventTrace ? { trace: eventTrace } : {}),
    }
    const change: StateChange<State> = {
      type: entity.type,
      key: input.key,
      position,
      state,
      eventId: record._id,
      operationId,
    }
    const step = (name: ChangeStep) => deps.onStep?.(name, change)

    let claimed: boolean
    try {
      claimed = await applyAndPublish(deps, record, change, entity, step)
    } catch (error) {
      span?.end(error)
      throw error
    }
    if (claimed) {
      span?.end()
      return { position, eventId: record._id }
    }
    // Nothing of it was applied or published; a crash here leaves it to reconciliation.
    span?.end('another change took this position')
    await store.outbox.deleteOne({ _id: record._id })
    if ((input.onConflict ?? 'fail') === 'fail')
      throw new ConcurrencyError(stream, input.expectedPosition)
    if (tried + 1 >= maxPositionsTried)
      throw new ConcurrencyError(stream, input.expectedPosition + tried)
  }
}

/** Holds, claims, applies and publishes one change; false when its position was taken. */
async function applyAndPublish<State>(
  deps: ChangeDependencies,
  record: EventRecord,
  change: StateChange<State>,
  entity: EntityState<State>,
  step: (name: ChangeStep) => void | Promise<void>,
): Promise<boolean> {
  await deps.outbox.hold(record)
  await step('held')
  if (!(await deps.claim(record))) return false
  await step('claimed')
  await entity.apply(change)
  await step('applied')
  const [failed] = await deps.outbox.publishRecorded([record])
  if (failed) throw failed // recorded and applied: the relay publishes it
  await step('published')
  return true
}

/**
 * Claims records' positions in their streams, concurrent claims in one insert. Resolves true
 * when the claim is the record's (now, or from an earlier try of the same record); false when
 * another change holds the position.
 */
export function positionClaimer(store: EventStore): (record: EventRecord) => Promise<boolean> {
  const claims = groupCommit<EventRecord, boolean>(async (records) => {
    const claimedAt = new Date()
    const { failed, existing } = await insertNew(
      store.changes,
      records.map((record) => claimOf(record, claimedAt)),
    )
    return Promise.all(
      records.map(async (record, i) => {
        if (failed.has(i)) return new Error(`MongoDB did not record the claim of ${record._id}`)
        return !existing.has(i) || (await claimHolder(store, record)) === record._id
      }),
    )
  }, groupWrites)
  return (record) => claims.add(record)
}

/** The claim of one record's position, on its own (reconciliation, off the hot path). */
export async function claimPosition(store: EventStore, record: EventRecord): Promise<boolean> {
  try {
    await store.changes.insertOne(claimOf(record, new Date()))
    return true
  } catch (error) {
    if (!isDuplicateKey(error)) throw error
  }
  return (await claimHolder(store, record)) === record._id
}

function claimOf(record: EventRecord, claimedAt: Date): ChangeClaimRecord {
  const { type, key, position } = record.change!
  return {
    _id: changeClaimId(type, key, position),
    format: currentFormat,
    type,
    key,
    position,
    eventId: record._id,
    operationId: record.operationId,
    claimedAt,
  }
}

async function claimHolder(store: EventStore, record: EventRecord): Promise<string | undefined> {
  const { type, key, position } = record.change!
  const holder = await store.changes.findOne(
    { _id: changeClaimId(type, key, position) },
    { projection: { eventId: 1 } },
  )
  return holder?.eventId
}

/** The state change a record announces, as `apply` receives it. */
export function stateChangeOf(record: EventRecord): StateChange<unknown> {
  const { type, key, position, state } = record.change!
  return { type, key, position, state, eventId: record._id, operationId: record.operationId }
}
