import { createHash } from 'node:crypto'
import { gunzipSync, gzipSync } from 'node:zlib'
import { BSON, type Collection, type Document, type Filter } from 'mongodb'
import type { EventStore } from '../store/event-store.ts'

/**
 * Where archived documents go in the bucket, and how they are written:
 *
 * ```
 * <prefix>events/date=2026-11-23/subject=User.nameUpdated/<batchId>.jsonl.gz
 * <prefix>operations/date=2026-11-23/<batchId>.jsonl.gz
 * <prefix>failures/date=2026-11-23/<batchId>.jsonl.gz
 * <prefix>manifests/<kind>/<batchId>.json      written last: the batch is complete
 * ```
 *
 * Each line is one document in MongoDB Extended JSON (relaxed), so dates and numbers come back
 * as they were. The date is the document's own (an event's `createdAt`), in UTC.
 */
export type ArchiveKindName = 'events' | 'operations' | 'failures'

/** Fields that say where a document was archived: never part of the archived copy. */
export const archiveFields = ['archived', 'archivedAt', 'archive', 'expireAt'] as const

/** A document of an archived collection: every one has a string `_id`. */
export type StoredDoc = Document & { _id: string }

/** What an archived document records about its copy. */
export interface ArchiveLocation {
  bucket: string
  /** Its batch: the batch's manifest (`manifests/<kind>/<batchId>.json`) lists its objects. */
  batchId: string
}

export interface ArchiveKind {
  name: ArchiveKindName
  collection(store: EventStore): Collection<StoredDoc>
  /** Of the documents not copied yet (`pending`), those done changing (for now). */
  ready(now: Date, settleMs: number): Filter<StoredDoc>
  /**
   * The claim's id: one per document version that is copied. Events never change; an
   * operation is copied again when its status changes, a failure record when it fails again.
   */
  claimId(doc: StoredDoc): string
  /** The field whose value tells one copied version from the next (none: never changes). */
  snapshotField?: 'status' | 'failures'
  /** The date of the document, which its object's path carries. */
  date(doc: Document): Date
  /** Extra partitions below the date (`subject=User.created` for events). */
  partition(doc: Document): string | undefined
  /** Whether retention applies (events and operations; failure records stay). */
  expires: boolean
}

/**
 * Not copied yet: an equality, which FerretDB filters inside PostgreSQL, so finding the work
 * costs the backlog, not the history (see `EventRecord.archived`).
 */
export const pending = { archived: false } as const
/** Written before `archived` existed and never copied: what the archiver's legacy pass finds. */
export const legacyPending = {
  archived: { $exists: false },
  archivedAt: { $exists: false },
} as const

export const archiveKinds: readonly ArchiveKind[] = [
  {
    name: 'events',
    collection: (store) => store.events as unknown as Collection<StoredDoc>,
    ready: () => ({}),
    claimId: (doc) => `events:${doc._id}`,
    date: (doc) => doc.createdAt as Date,
    partition: (doc) => `subject=${String(doc.subject)}`,
    expires: true,
  },
  {
    name: 'operations',
    collection: (store) => store.operations as unknown as Collection<StoredDoc>,
    // An operation that never ends is copied a day after it started.
    ready: (now, settleMs) => ({
      $or: [
        { endedAt: { $lt: new Date(now.getTime() - settleMs) } },
        { startedAt: { $lt: new Date(now.getTime() - 86_400_000) } },
      ],
    }),
    claimId: (doc) => `operations:${doc._id}:${String(doc.status)}`,
    snapshotField: 'status',
    date: (doc) => doc.startedAt as Date,
    partition: () => undefined,
    expires: true,
  },
  {
    name: 'failures',
    collection: (store) => store.failures as unknown as Collection<StoredDoc>,
    ready: (now, settleMs) => ({
      lastFailedAt: { $lt: new Date(now.getTime() - settleMs) },
    }),
    claimId: (doc) => `failures:${doc._id}#${String(doc.failures)}`,
    snapshotField: 'failures',
    date: (doc) => doc.firstFailedAt as Date,
    partition: () => undefined,
    expires: false,
  },
]

export function archiveKind(name: ArchiveKindName): ArchiveKind {
  return archiveKinds.find((kind) => kind.name === name)!
}

export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10)
}

/** The folder of one day (and partition) of one kind: what a reader lists. */
export function partitionPrefix(
  prefix: string,
  kind: ArchiveKindName,
  day: string,
  partition?: string,
): string {
  return `${prefix}${kind}/date=${day}/${partition ? `${partition}/` : ''}`
}

export function objectKey(kind: ArchiveKind, prefix: string, doc: Document, batchId: string) {
  return `${partitionPrefix(prefix, kind.name, utcDay(kind.date(doc)), kind.partition(doc))}${batchId}.jsonl.gz`
}

export function manifestKey(prefix: string, kind: ArchiveKindName, batchId: string): string {
  return `${prefix}manifests/${kind}/${batchId}.json`
}

/** The archived copy of a document: without the fields that say where it was archived. */
export function archivedCopy(doc: Document): Document {
  const copy = { ...doc }
  for (const field of archiveFields) delete copy[field]
  return copy
}

/** One document as a line of MongoDB Extended JSON (relaxed): dates stay dates when read back. */
export function jsonLine(doc: Document): string {
  return BSON.EJSON.stringify(doc, { relaxed: true })
}

/** Gzipped JSON Lines of the documents, in the order given (the batch sorts them by `_id`). */
export function encodeObject(docs: readonly Document[]): Buffer {
  return gzipSync(`${docs.map((doc) => jsonLine(archivedCopy(doc))).join('\n')}\n`)
}

export function decodeObject(body: Uint8Array): Document[] {
  return gunzipSync(body)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => BSON.EJSON.parse(line, { relaxed: true }) as Document)
}

/** The manifest of one batch: its objects, each with its count and checksum. */
export interface ArchiveManifest {
  batchId: string
  kind: ArchiveKindName
  count: number
  createdAt: string
  objects: { key: string; count: number; bytes: number; sha256: string }[]
}

export function sha256(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex')
}
