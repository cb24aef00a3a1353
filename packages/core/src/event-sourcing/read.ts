import { readEventData } from '../event-definition.ts'
import type { EventStore, StreamAppendRecord, StreamEntry } from '../store/event-store.ts'
import type { IndexDeclaration } from '../store/indexes.ts'
import type { ResolvedStream, StreamEvent } from './stream-types.ts'

/**
 * Reads of event-sourced streams: a stream's appends by the position they end at. On MongoDB
 * the index serves the read, the head and the boundary check. FerretDB filters by stream inside
 * PostgreSQL (a scan of the table there, growing gently with the collection) and sorts the
 * stream's appends itself (docs/event-sourcing.md says what that costs). Appends never read.
 */
export const streamIndexes: readonly IndexDeclaration[] = [
  {
    collection: 'eventStreams',
    keys: { stream: 1, to: 1 },
    serves: 'event-sourced streams: reading a stream or a range of it, its head, a boundary',
    onFerretDb: 'filter',
  },
]

export interface ReadStreamOptions {
  /** The first position to read (default 1). */
  from?: number
  /** The last position to read (default: the end). */
  to?: number
}

export interface ReadStreamResult<Event = StreamEvent> {
  /** In stream order, lifted to their definitions' current versions. */
  events: Event[]
  /** The stream's position (its last event's) when it was read: 0 for a stream with no events. */
  position: number
  exists: boolean
}

/**
 * Positions known to end an append: an expected position must be one, or an append could leave
 * a gap or land inside an earlier append. An append never goes away, so a known one stays true;
 * positions come here from every read and append, so the usual append (at the position just
 * read) is checked without a round trip.
 */
export function knownBoundaries(limit = 10_000) {
  const known = new Map<string, true>()
  return {
    has: (stream: string, position: number) => position === 0 || known.has(`${position}@${stream}`),
    add(stream: string, position: number) {
      const key = `${position}@${stream}`
      known.delete(key)
      known.set(key, true)
      if (known.size > limit) known.delete(known.keys().next().value!)
    },
  }
}

export type KnownBoundaries = ReturnType<typeof knownBoundaries>

/** A stream's position: where its last append ends (0 for none). */
export async function streamHead(store: EventStore, name: string): Promise<number> {
  const [last] = await store.eventStreams
    .find({ stream: name }, { projection: { to: 1 } })
    .sort({ to: -1 })
    .limit(1)
    .toArray()
  return last?.to ?? 0
}

/** The events of appends whose events were moved to S3, by append id (`archive-head.ts`). */
export type ArchivedEntries = (
  appends: readonly StreamAppendRecord[],
) => Promise<Map<string, StreamEntry[]>>

export function streamReader(
  store: EventStore,
  boundaries: KnownBoundaries,
  archived: ArchivedEntries,
) {
  const head = async (name: string): Promise<number> => {
    const position = await streamHead(store, name)
    if (position > 0) boundaries.add(name, position)
    return position
  }

  return {
    boundaries,
    head,

    /** Whether the stream holds an event with this id (archived ones included). */
    async holdsEvent(name: string, eventId: string): Promise<boolean> {
      const holder = await store.eventStreams.findOne(
        { stream: name, 'events.id': eventId },
        { projection: { _id: 1 } },
      )
      return holder !== null
    },

    /** Whether an append ends at `position` (or it is 0): where the next append may go. */
    async isBoundary(name: string, position: number): Promise<boolean> {
      if (boundaries.has(name, position)) return true
      const ending = await store.eventStreams.findOne(
        { stream: name, to: position },
        { projection: { _id: 1 } },
      )
      if (ending) boundaries.add(name, position)
      return ending !== null
    },

    async readStream(
      stream: ResolvedStream,
      { from = 1, to }: ReadStreamOptions = {},
    ): Promise<ReadStreamResult> {
      checkRange(from, to)
      const { name } = stream
      const appends = await store.eventStreams
        .find({
          stream: name,
          ...(from > 1 ? { to: { $gte: from } } : {}),
          ...(to !== undefined ? { from: { $lte: to } } : {}),
        })
        .sort({ to: 1 })
        .toArray()
      const events: StreamEvent[] = []
      let previous: StreamAppendRecord | undefined
      const fromS3 = appends.some((a) => a.archive) ? await archived(appends) : undefined
      for (const append of appends) {
        if (previous && append.from !== previous.to + 1)
          throw new Error(
            `stream ${name} is not contiguous: positions ${previous.from}–${previous.to} are followed by ${append.from}–${append.to}`,
          )
        previous = append
        boundaries.add(name, append.to)
        const entries = append.archive ? fromS3!.get(append._id)! : (append.events as StreamEntry[])
        for (const [index, entry] of entries.entries()) {
          const at = append.from + index
          if (at < from || (to !== undefined && at > to)) continue
          events.push(await liftEntry(stream, entry, at))
        }
      }
      // Read to the end, the last append is the head; otherwise it is asked for.
      const position =
        to === undefined && (previous || from === 1) ? (previous?.to ?? 0) : await head(name)
      return { events, position, exists: position > 0 }
    },
  }
}

export type StreamReader = ReturnType<typeof streamReader>

function checkRange(from: number, to: number | undefined) {
  if (!Number.isSafeInteger(from) || from < 1)
    throw new RangeError(`from must be a position (an integer of 1 or more), got ${from}`)
  if (to !== undefined && (!Number.isSafeInteger(to) || to < from))
    throw new RangeError(`to must be a position no lower than from (${from}), got ${to}`)
}

async function liftEntry(
  stream: ResolvedStream,
  entry: StreamEntry,
  position: number,
): Promise<StreamEvent> {
  const definition = stream.events.get(entry.subject)
  if (!definition)
    throw new Error(
      `stream ${stream.name} holds ${entry.subject} at position ${position}, and stream type "${stream.type}" does not list it: add its definition to the type's events`,
    )
  return {
    id: entry.id,
    subject: entry.subject,
    version: definition.version,
    storedVersion: entry.version,
    data: await readEventData(definition, entry.data, entry.version),
    position,
    operationId: entry.operationId,
    parentId: entry.parentId,
    createdAt: entry.createdAt,
  }
}
