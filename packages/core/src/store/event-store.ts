import { MongoClient, type Binary, type Collection, type Db } from 'mongodb'
import type { ArchiveLocation } from '../archive/layout.ts'
import type { TraceContext } from '../observe/trace-context.ts'

/**
 * What every stored record carries: the format it was written in (`version/formats.ts`).
 * Absent on records written before formats existed, which are format 1.
 */
export interface Formatted {
  format?: number
}

/** A recorded operation: one command that starts a chain. */
export interface OperationRecord extends Formatted {
  _id: string
  name: string
  input: unknown
  actor: unknown
  status: 'started' | 'completed' | 'failed'
  error?: string
  service: string
  startedAt: Date
  /** Past this, an operation still `started` is ended as abandoned (see `OperationOptions`). */
  deadlineAt?: Date
  endedAt?: Date
  /** The operation's span, when it was traced: its events' spans belong to it (`observe/tracing.ts`). */
  trace?: TraceContext
  /** See `EventRecord.archived`. */
  archived?: boolean
  archivedAt?: Date
  archive?: ArchiveLocation
  expireAt?: Date
}

/** A recorded event. `parentId` is the event (or operation) that caused it. */
export interface EventRecord extends Formatted {
  _id: string
  subject: string
  version: number
  data: unknown
  operationId: string
  parentId: string
  /** The service that published it, and the consumer group when a handler did. */
  publishedBy: { service: string; consumerGroup?: string }
  createdAt: Date
  publishedAt?: Date
  /** Set when this publish may repeat an earlier one (a retried handler's child). */
  redelivery?: 'relay' | 'retry'
  /**
   * A keyed event's partition key token (`defineEvent({ key })`, a hash of the key): it is
   * published on the keyed subject, so the relay and a replay keep its partition.
   */
  partitionKey?: string
  /**
   * The trace it belongs to (its publish span, or the context its parent carried): sent as
   * `traceparent` whenever it is published, so a publish by the relay continues the same trace.
   */
  trace?: TraceContext
  /**
   * False until the archiver copies it to S3, then true: the archiver finds its work by this
   * equality, which FerretDB filters inside PostgreSQL, so its cost follows the backlog, not the
   * history (`archivedAt: { $exists: false }` fetches every document there). Absent on documents
   * written before 0.x: a legacy pass finds those (see the archiver).
   */
  archived?: boolean
  /** Set by the archiver once the event is in S3. */
  archivedAt?: Date
  archive?: ArchiveLocation
  /** When retention may remove it from MongoDB (never before `archivedAt` while archiving is on). */
  expireAt?: Date
  /** Set by `migrateEvents`: when the data was lifted, and the version first stored. */
  migratedAt?: Date
  migratedFrom?: number
  /** Set when the event announces a state change (`Operation.change`): its place in the entity's stream. */
  change?: ChangeMark
}

/**
 * The state change an event announces. The outbox record also carries the `state` to apply (it
 * may hold what events must not, such as a password hash); `events` never does.
 */
export interface ChangeMark {
  /** The service whose state it is: only its instances apply and settle it. */
  service: string
  /** The kind of entity (`user`) and its key: together, the entity's stream. */
  type: string
  key: string
  /** The change's position in the stream: 1 for the first. */
  position: number
  state?: unknown
  /**
   * Set on the events of an append to an event-sourced stream (`event-sourcing/append.ts`): the
   * stream's position before the append, and how many events it has. Its claim is the append
   * document itself, which holds all of them: there is no `state` to apply.
   */
  append?: { after: number; count: number }
}

/**
 * The claim of one position in one entity's stream, written once by an insert: of two changes
 * that decided on the same state, the one whose claim lands is the change, the other is refused.
 */
export interface ChangeClaimRecord extends Formatted {
  _id: string // changeClaimId(type, key, position)
  type: string
  key: string
  position: number
  eventId: string
  operationId: string
  claimedAt: Date
}

/**
 * One append to an event-sourced stream: the claim of the stream's position `from - 1` (its
 * `_id`) and the events it added, `from` to `to`, in order. Written once by an insert, so of two
 * appends decided on the same position one lands, and an append lands whole or not at all.
 */
export interface StreamAppendRecord extends Formatted {
  _id: string // streamAppendId(stream, from - 1)
  /** `<type>:<id>`. */
  stream: string
  from: number
  to: number
  /** The service that appended, and the operation the events belong to. */
  service: string
  operationId: string
  /** Its events; once archived (`archive`), only their ids stay here (`StreamEntry.id`). */
  events: StreamEntry[] | { id: string }[]
  appendedAt: Date
  /** Set when its events were moved to S3 (`event-sourcing/archive-head.ts`): the object holding them. */
  archive?: { bucket: string; key: string; archivedAt: Date }
}

/** A stream's state folded up to a position, kept to fold the rest from (a cache). */
export interface StreamSnapshotRecord extends Formatted {
  _id: string // streamSnapshotId(stream, name)
  stream: string
  /** The fold it comes from (`AggregateOptions.snapshot.name`). */
  name: string
  position: number
  state: unknown
  takenAt: Date
}

/** An event as its stream keeps it (its position is the append's `from` plus its index). */
export interface StreamEntry {
  id: string
  subject: string
  /** The version it was written in: reads lift it to the current one. */
  version: number
  data: unknown
  operationId: string
  parentId: string
  createdAt: Date
}

/** One failed delivery after another, for one event and one consumer group. */
export interface FailureRecord extends Formatted {
  _id: string // deliveryKey(eventId, consumerGroup)
  eventId: string
  consumerGroup: string
  subject: string
  operationId?: string
  failures: number
  attempts: AttemptError[]
  firstFailedAt: Date
  lastFailedAt: Date
  /** See `EventRecord.archived`. */
  archived?: boolean
  archivedAt?: Date
  archive?: ArchiveLocation
}

export interface AttemptError {
  /** JetStream's delivery count for this attempt. */
  attempt: number
  /** The stream position of the message delivered: a redrive is a new message, counted anew. */
  streamSequence?: number
  message: string
  stack?: string
  /** When the failed run started; absent for attempts a crash left without a run (see `lostAttempts`). */
  startedAt?: Date
  /** When it failed. */
  at: Date
}

/**
 * One failure cycle of one message for one consumer group: written once by an insert when the
 * message is given up, never replaced. Ids read from the message are labels (made storable,
 * cut at 200 characters); the message itself is kept byte for byte in `payload` and `headers`.
 */
export interface DlqRecord extends Formatted {
  _id: string // dlqEntryId(eventId, consumerGroup, stream, streamSequence)
  eventId: string
  consumerGroup: string
  service: string
  handler: string
  subject: string
  version?: number
  operationId?: string
  parentId?: string
  /** The entry whose redrive this message was: the cycle before this one. */
  redriveOf?: string
  /** The body, exactly as received. */
  payload: Binary
  /** The header block (`NATS/1.0` and its lines), exactly as received; empty without headers. */
  headers: Binary
  /** The framework signed the message; entries it did not sign cannot be redriven. */
  trusted: boolean
  reason: string
  /** This cycle's attempts. */
  attempts: AttemptError[]
  /** Set once, by the action that claimed the entry; `open` until then. */
  status: DlqStatus
  /** The action that closed the entry (one at most: a later cycle is an entry of its own). */
  history?: DlqAction[]
  stream: string
  streamSequence: number
  createdAt: Date
  /** Set when the entry was parked in JetStream first (MongoDB did not take it in time). */
  parkedAt?: Date
  /**
   * Set when an ordered consumer group gave the event up: its partition and key token. Later
   * events of that key (and of its partition) were handled after it; a redrive delivers it after
   * them, outside the order (`docs/ordering.md`).
   */
  ordering?: { partition: number; partitionKey: string }
}

export type DlqStatus = 'open' | 'redriven' | 'discarded' | 'resolved'

export interface DlqAction {
  action: 'redrive' | 'discard' | 'resolve'
  by: string
  at: Date
  reason?: string
}

/** Proof that a consumer group finished an event: unique by `_id`. */
export interface ProcessedRecord extends Formatted {
  _id: string // deliveryKey(eventId, consumerGroup)
  /** The event's operation (a label), so its chain finds the entry by equality. */
  operationId?: string
  /** The delivery whose run finished it (JetStream's count), and when that run started. */
  attempt?: number
  startedAt?: Date
  processedAt: Date
  /** With retention on: once JetStream can no longer redeliver the event (see RetentionOptions). */
  expireAt?: Date
}

/** A batch of documents being copied to S3; removed once its documents are marked archived. */
export interface ArchiveBatchRecord extends Formatted {
  _id: string
  kind: 'events' | 'operations' | 'failures'
  /** The claims this batch tried to take, and the documents they stand for (same order). */
  claimIds: string[]
  docIds: string[]
  createdAt: Date
  /** Until then only its claimant works on it; after, any archiver may finish it. */
  leaseUntil: Date
}

/** A document version taken by one archive batch: unique by `_id`, so it is copied once. */
export interface ArchiveClaimRecord extends Formatted {
  _id: string
  batchId: string
  claimedAt: Date
  /** With a keep time: a week past when its document may expire, so the claim outlives it. */
  expireAt?: Date
}

/** Which action on a DLQ entry won (`_id` = the entry's id): insert-only claims. */
export type DlqActionClaim = DlqAction & Formatted & { _id: string }

/** A DLQ entry's Slack alert waiting to be sent (deleted once sent). */
export interface PendingAlertRecord extends Formatted {
  _id: string // `${dlqEntryId}#${cycle}`
  service: string
  consumerGroup: string
  subject: string
  error: string
  createdAt: Date
}

/**
 * Who sends a batch of alerts (named by its first alert): only one instance wins. Kept after the
 * batch is sent, so a repeat of its alerts is not announced again, until `expireAt` (retention).
 */
export interface AlertClaimRecord extends Formatted {
  _id: string // `${batch}#${n}`, n one more than the batch's highest claim
  batch: string
  claimedAt: Date
  sentAt?: Date
  expireAt: Date
}

/** The first end of an operation: one insert decides it (see `endOperation`). */
export interface OperationEndRecord extends Formatted {
  _id: string
  status: 'completed' | 'failed'
  error?: string
  endedAt: Date
  /** Ended by the sweeper: its process did not end it within its deadline. */
  abandoned?: boolean
  /** With retention: when its operation expires too. */
  expireAt?: Date
}

/** The system's secrets, written once by an insert (the signing secret). */
export interface FrameworkKeyRecord extends Formatted {
  _id: string
  secret: string
  createdAt: Date
}

export type FlowEdgeKind = 'publishes' | 'emits' | 'delivers'

/**
 * One edge of the flow graph, as one instance counted it in one minute or one hour, with all its
 * counters: written once by an insert when the period has ended (or the instance stops), never
 * updated (`observe/flow/`). Readers `find` a resolution's documents in a window and sum them in
 * JavaScript (FerretDB v1's `$group` computes only its first accumulator).
 */
export interface FlowStatRecord extends Formatted {
  _id: string // `<instance>:<flush>:<n>`: unique to the instance, kept when a flush is tried again
  /** The period it counts: minutes serve the short windows, hours the long ones. */
  resolution: 'minute' | 'hour'
  /** The period's start: a minute, or an hour (UTC). */
  periodAt: Date
  /**
   * - `publishes`: service `from`'s operations published an event of `to`;
   * - `emits`: consumer group `from`'s handler emitted an event of `to`;
   * - `delivers`: consumer group `to`'s handler ran for an event of `from`.
   */
  kind: FlowEdgeKind
  from: string
  to: string
  /** Events published or emitted, or handler runs. */
  count: number
  /** Handler runs that failed (`delivers`); 0 for the others. */
  failures: number
  /**
   * Step times per bucket: `buckets[i]` counts the times in bucket `i`
   * (`observe/flow/histogram.ts`); trailing empty buckets are left out.
   */
  buckets: number[]
  /** When it may be removed: a minute 2 hours past its start, an hour the flow's keep time past. */
  expireAt: Date
}

/**
 * The collections of the event store. The outbox holds events not yet published, and state
 * changes until they are settled (`publishedAt` set, kept a little longer: see `state/`).
 */
export interface EventStore {
  db: Db
  operations: Collection<OperationRecord>
  events: Collection<EventRecord>
  outbox: Collection<EventRecord>
  failures: Collection<FailureRecord>
  dlq: Collection<DlqRecord>
  processed: Collection<ProcessedRecord>
  archiveBatches: Collection<ArchiveBatchRecord>
  archiveClaims: Collection<ArchiveClaimRecord>
  /** Claims of positions in entity streams (state changes): insert-only. */
  changes: Collection<ChangeClaimRecord>
  /** Event-sourced streams, one document per append: insert-only. */
  eventStreams: Collection<StreamAppendRecord>
  /** Snapshots of folded streams: a cache, rewritten forward. */
  streamSnapshots: Collection<StreamSnapshotRecord>
  operationEnds: Collection<OperationEndRecord>
  dlqActions: Collection<DlqActionClaim>
  dlqAlerts: Collection<PendingAlertRecord>
  dlqAlertClaims: Collection<AlertClaimRecord>
  frameworkKeys: Collection<FrameworkKeyRecord>
  /** Counts of the flow of events per minute or hour and edge: insert-only, expiring. */
  flowStats: Collection<FlowStatRecord>
}

export function eventStore(db: Db): EventStore {
  return {
    db,
    operations: db.collection('operations'),
    events: db.collection('events'),
    outbox: db.collection('outbox'),
    failures: db.collection('failures'),
    dlq: db.collection('dlq'),
    processed: db.collection('processed'),
    archiveBatches: db.collection('archive_batches'),
    archiveClaims: db.collection('archive_claims'),
    changes: db.collection('changes'),
    eventStreams: db.collection('event_streams'),
    streamSnapshots: db.collection('stream_snapshots'),
    operationEnds: db.collection('operation_ends'),
    dlqActions: db.collection('dlq_actions'),
    dlqAlerts: db.collection('dlq_alerts'),
    dlqAlertClaims: db.collection('dlq_alert_claims'),
    frameworkKeys: db.collection('framework_keys'),
    flowStats: db.collection('flow_stats'),
  }
}

/**
 * How readers outside the pipeline (chains, the admin API) query the outbox: records not yet
 * published (a settling state change is in `events` already), without a change's state.
 */
export const outboxUnpublished = { publishedAt: { $exists: false } } as const
export const withoutChangeState = { projection: { 'change.state': 0 } } as const

/** Opens the event store on its own connection, for tools (the CLI's migrate and archive). */
export async function connectEventStore(
  mongodbUrl: string,
  database: string,
): Promise<{ store: EventStore; close: () => Promise<void> }> {
  const client = await new MongoClient(mongodbUrl, { serverSelectionTimeoutMS: 5_000 }).connect()
  return { store: eventStore(client.db(database)), close: () => client.close() }
}
