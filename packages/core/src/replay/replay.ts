import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { S3Client } from '@aws-sdk/client-s3'
import type { Filter } from 'mongodb'
import { readArchivedEvents, type ArchivedEventQuery } from '../archive/read.ts'
import { durableName, splitConsumerGroup } from '../consume/group-names.ts'
import { ConfigurationError } from '../errors.ts'
import { newId } from '../ids.ts'
import { resendSpan } from '../observe/spans.ts'
import { filteredSubject } from '../ordering/keyed-subjects.ts'
import { storedTraceContext, traceHeaders } from '../observe/trace-context.ts'
import type { ServiceTracing, TraceSpan } from '../observe/tracing.ts'
import { encodeEvent, eventHeaders, redriveSubject } from '../publish/wire.ts'
import { publishSigned, type MessageSigner } from '../publish/signature.ts'
import type { EventRecord, EventStore } from '../store/event-store.ts'

/** Which events to replay or read. Every field narrows the selection; none selects everything. */
export interface EventSelection extends ArchivedEventQuery {
  /** The events this consumer group (`<service>.<handler>`) consumes: its subjects. */
  consumerGroup?: string
}

/** Where events are read from: MongoDB, the S3 archive, or both (`auto`, each event once). */
export type EventSource = 'mongodb' | 's3' | 'auto'

export interface ReplayOptions {
  select: EventSelection
  /** Default `auto`: MongoDB first, then the archive for events MongoDB no longer holds. */
  from?: EventSource
  /** The one consumer group (`<service>.<handler>`) that receives them. */
  to: string
  /** Count what would be replayed; deliver nothing. */
  dryRun?: boolean
  onProgress?: (progress: { done: number; total: number }) => void
}

export interface ReplayResult {
  /** Marks this replay's deliveries: their ledger entries and message ids are their own. */
  replayId: string
  matched: number
  delivered: number
  dryRun: boolean
}

export interface ReplayDependencies {
  store: EventStore
  js: JetStreamClient
  jsm: JetStreamManager
  stream: { name: string; subjectPrefix: string }
  signer: MessageSigner
  /** The archive, when one is configured. */
  archive?: { s3: S3Client; bucket: string; prefix?: string }
  /** Starts a span per replay and per redrive; absent when tracing is off. */
  tracing?: ServiceTracing
}

/**
 * Reads the selected events from MongoDB, the S3 archive or both, each once (by id), as stored:
 * a handler upcasts what it receives.
 */
export async function* selectEvents(
  deps: Pick<ReplayDependencies, 'store' | 'archive' | 'jsm' | 'stream'>,
  select: EventSelection,
  from: EventSource = 'auto',
): AsyncGenerator<EventRecord> {
  const query = await withGroupSubjects(deps, select)
  if (from === 's3' && !deps.archive) {
    throw new ConfigurationError(
      'reading from S3 needs the archive settings (bucket and S3 client)',
    )
  }
  const seen = new Set<string>()
  if (from !== 's3') {
    // An event is in the outbox until it is moved to `events` (written there first), so it is
    // in one or both at every instant. The outbox (small) is read first: an event moved while
    // `events` is read is then found in one of them. State changes are read from `events` only:
    // in the outbox one may not have its position yet, and it carries its state.
    const pending = await deps.store.outbox
      .find({ ...mongoFilter(query), change: { $exists: false } })
      .toArray()
    for await (const event of deps.store.events.find(mongoFilter(query))) {
      seen.add(event._id)
      yield event
    }
    for (const event of pending) {
      if (seen.has(event._id)) continue
      seen.add(event._id)
      yield event
    }
  }
  if (from !== 'mongodb' && deps.archive) {
    for await (const event of readArchivedEvents(deps.archive.s3, deps.archive, query)) {
      if (seen.has(event._id)) continue
      seen.add(event._id)
      yield event
    }
  }
}

/**
 * Delivers the selected events to one consumer group only, on its own subject, with their
 * original ids (eventId, operationId, parentId). Handlers see `event.redelivery === 'replay'`,
 * and the group's processed ledger does not skip them. Reads the selection twice: once to count
 * it (the progress total), once to deliver.
 */
export async function replayEvents(
  deps: ReplayDependencies,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const target = await consumerGroupSubjects(deps, options.to)
  const from = options.from ?? 'auto'
  const replayId = newId()
  const total = await count(selectEvents(deps, options.select, from))
  if (options.dryRun || total === 0) {
    return { replayId, matched: total, delivered: 0, dryRun: Boolean(options.dryRun) }
  }
  const subject = redriveSubject(deps.stream.subjectPrefix, target.durable)
  // One new trace for the replay; each delivery links to its event's first trace.
  const span = deps.tracing?.start(
    resendSpan('replay', options.to, {
      'event_driven.replay.id': replayId,
      'event_driven.replay.events': total,
    }),
  )
  try {
    const delivered = await sendAll(deps, options, { subject, replayId, total, from, span })
    span?.end()
    return { replayId, matched: total, delivered, dryRun: false }
  } catch (error) {
    span?.end(error)
    throw error
  }
}

async function sendAll(
  deps: ReplayDependencies,
  options: ReplayOptions,
  run: { subject: string; replayId: string; total: number; from: EventSource; span?: TraceSpan },
): Promise<number> {
  const { subject, replayId, total, from, span } = run
  let delivered = 0
  let window: Promise<unknown>[] = []
  const flush = async () => {
    await Promise.all(window)
    delivered += window.length
    window = []
    options.onProgress?.({ done: delivered, total })
  }
  for await (const event of selectEvents(deps, options.select, from)) {
    const original = storedTraceContext(event.trace)
    const { payload, headers } = encodeEvent({ ...event, trace: span?.context }, 'replay')
    headers.set(eventHeaders.subject, event.subject)
    headers.set(eventHeaders.replayId, replayId)
    if (original) headers.set(traceHeaders.link, original.traceparent)
    window.push(
      publishSigned(deps.js, deps.signer, subject, payload, {
        msgID: `${event._id}#replay:${replayId}`,
        headers,
      }),
    )
    if (window.length >= 100) await flush()
  }
  await flush()
  return delivered
}

async function count(items: AsyncIterable<unknown>): Promise<number> {
  let n = 0
  for await (const item of items) if (item) n++
  return n
}

/** The durable behind `<service>.<handler>` and the event subjects it consumes. */
async function consumerGroupSubjects(
  deps: Pick<ReplayDependencies, 'jsm' | 'stream'>,
  consumerGroup: string,
): Promise<{ durable: string; subjects: string[] }> {
  const names = splitConsumerGroup(consumerGroup)
  if (!names) {
    throw new ConfigurationError(
      `a consumer group is <service>.<handler>, like blogs.onUserNameUpdated; got "${consumerGroup}"`,
    )
  }
  const durable = durableName(names.service, names.handler)
  const info = await deps.jsm.consumers.info(deps.stream.name, durable).catch(() => null)
  if (!info) {
    throw new ConfigurationError(
      `no consumer group ${consumerGroup} (durable ${durable}) on stream ${deps.stream.name}`,
    )
  }
  const filters = info.config.filter_subjects ?? [info.config.filter_subject ?? '']
  // Its event's subject (an ordered group's partitions filter on the same one).
  const subjects = [
    ...new Set(filters.flatMap((f) => filteredSubject(deps.stream.subjectPrefix, f) ?? [])),
  ]
  return { durable, subjects }
}

async function withGroupSubjects(
  deps: Pick<ReplayDependencies, 'jsm' | 'stream'>,
  select: EventSelection,
): Promise<ArchivedEventQuery> {
  if (!select.consumerGroup) return select
  const { subjects } = await consumerGroupSubjects(deps, select.consumerGroup)
  const narrowed = select.subjects?.length
    ? select.subjects.filter((s) => subjects.includes(s))
    : subjects
  // A subject the group does not consume selects nothing, not everything.
  return { ...select, subjects: narrowed.length > 0 ? narrowed : ['(no subject)'] }
}

function mongoFilter(query: ArchivedEventQuery): Filter<EventRecord> {
  const filter: Filter<EventRecord> = {}
  if (query.subjects?.length) filter.subject = { $in: [...query.subjects] }
  if (query.operationId) filter.operationId = query.operationId
  if (query.since || query.until) {
    filter.createdAt = {
      ...(query.since ? { $gte: query.since } : {}),
      ...(query.until ? { $lt: query.until } : {}),
    }
  }
  return filter
}
