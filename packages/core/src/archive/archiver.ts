import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3'
import { MongoBulkWriteError, type Document } from 'mongodb'
import type { Logger } from 'pino'
import { newId } from '../ids.ts'
import { bucketEnsurer } from './bucket.ts'
import { s3Sdk } from '../optional-peers.ts'
import { runEvery } from '../periodic.ts'
import type { ArchiveBatchRecord, EventStore } from '../store/event-store.ts'
import type { IndexDeclaration } from '../store/indexes.ts'
import { isDuplicateKey } from '../store/insert-new.ts'
import {
  archiveKinds,
  encodeObject,
  legacyPending,
  manifestKey,
  objectKey,
  pending,
  sha256,
  type ArchiveKind,
  type ArchiveManifest,
  type StoredDoc,
} from './layout.ts'
import { currentFormat } from '../version/formats.ts'
import { idsWithin } from '../store/ids-within.ts'

/** The archiver's reads: the documents not copied yet, by equality (see `pending`). */
export const archiverIndexes: readonly IndexDeclaration[] = [
  { collection: 'events', keys: { archived: 1 }, serves: 'the archiver: events not copied yet' },
  {
    collection: 'operations',
    keys: { archived: 1 },
    serves: 'the archiver: operations not copied yet',
  },
  {
    collection: 'failures',
    keys: { archived: 1 },
    serves: 'the archiver: failure records not copied yet',
  },
  { collection: 'archiveClaims', keys: { batchId: 1 }, serves: 'the archiver: a batch’s claims' },
]

export interface ArchiveOptions {
  bucket: string
  /** An S3 client, or its settings (`endpoint`, `region`, `credentials`, `forcePathStyle`). */
  s3: S3Client | S3ClientConfig
  /** Key prefix in the bucket, e.g. `prod/`. Default none. */
  prefix?: string
  /** How often an archiver looks for work when the last run succeeded. Default 10 s. */
  intervalMs?: number
  /** Documents per batch (one object per day and subject in it). Default 1,000. */
  batchSize?: number
  /** How long a batch belongs to the archiver that claimed it; after that any may finish it. Default 60 s. */
  leaseMs?: number
  /** Operations and failure records are copied once unchanged this long. Default 60 s. */
  settleMs?: number
  /** The longest wait between tries while S3 or MongoDB fails. Default 60 s. */
  maxBackoffMs?: number
}

/** How long archived documents stay in MongoDB; undefined keeps them. */
export interface ArchiveKeep {
  eventsMs?: number
  operationsMs?: number
}

export interface Archiver {
  /** One pass: finishes batches left unfinished, then copies what is ready. */
  runOnce(): Promise<{ archived: number }>
}

/**
 * How much longer than its document a claim stays: while it is there, no archiver copies that
 * version again. A batch left unfinished longer than this (S3 down for a week) may be copied
 * twice; never lost.
 */
const claimKeepMs = 7 * 86_400_000

export function s3Client(s3: S3Client | S3ClientConfig): S3Client {
  // A client made from another copy of the SDK (the user's) is no instance of this one's class.
  if (typeof (s3 as Partial<S3Client>).send === 'function') return s3 as S3Client
  return new (s3Sdk().S3Client)({ forcePathStyle: true, ...s3 })
}

/**
 * Copies events, operations and failure records to S3 in batches. Any number of archivers may
 * run on one event store: a document version is copied by the one batch whose claim (a unique
 * `_id` insert) took it; a batch records its claims before taking them, so one whose archiver
 * stopped is finished by another after its lease. Finishing a batch twice writes the same
 * objects under the same keys, so it never duplicates. A document is marked archived only after
 * its object and the batch's manifest are in S3.
 */
export function createArchiver(options: {
  store: EventStore
  archive: ArchiveOptions
  keep?: ArchiveKeep
  logger: Logger
}): Archiver {
  const { store, archive, keep = {}, logger } = options
  const s3 = s3Client(archive.s3)
  const { PutObjectCommand } = s3Sdk()
  const prefix = archive.prefix ?? ''
  const batchSize = archive.batchSize ?? 1_000
  const leaseMs = archive.leaseMs ?? 60_000
  const settleMs = archive.settleMs ?? 60_000
  const mine = new Set<string>()
  // Kinds whose documents from before `archived` existed are all copied (checked once a process).
  const legacyDone = new Set<string>()

  const keepMs = (kind: ArchiveKind) =>
    !kind.expires ? undefined : kind.name === 'events' ? keep.eventsMs : keep.operationsMs

  const ensureBucket = bucketEnsurer(s3, archive.bucket, logger)

  /** Writes the batch's objects and manifest, then marks its documents and drops the batch. */
  const writeBatch = async (kind: ArchiveKind, batch: ArchiveBatchRecord, docs: StoredDoc[]) => {
    const sorted = [...docs].sort((a, b) => a._id.localeCompare(b._id))
    const byKey = new Map<string, StoredDoc[]>()
    for (const doc of sorted) {
      const key = objectKey(kind, prefix, doc, batch._id)
      byKey.set(key, [...(byKey.get(key) ?? []), doc])
    }
    const objects: ArchiveManifest['objects'] = []
    for (const [key, group] of byKey) {
      const body = encodeObject(group)
      await s3.send(
        new PutObjectCommand({
          Bucket: archive.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/x-ndjson',
          ContentEncoding: 'gzip',
        }),
      )
      objects.push({ key, count: group.length, bytes: body.length, sha256: sha256(body) })
    }
    const manifest: ArchiveManifest = {
      batchId: batch._id,
      kind: kind.name,
      count: sorted.length,
      createdAt: batch.createdAt.toISOString(),
      objects,
    }
    await s3.send(
      new PutObjectCommand({
        Bucket: archive.bucket,
        Key: manifestKey(prefix, kind.name, batch._id),
        Body: JSON.stringify(manifest, null, 2),
        ContentType: 'application/json',
      }),
    )
    await markArchived(kind, batch, sorted)
  }

  const markArchived = async (kind: ArchiveKind, batch: ArchiveBatchRecord, docs: StoredDoc[]) => {
    const archivedAt = new Date()
    const ms = keepMs(kind)
    const expireAt = ms === undefined ? undefined : new Date(archivedAt.getTime() + ms)
    // One updateMany per batch (and snapshot): each one costs FerretDB a read of the backlog
    // (`archived: false`) besides the writes, and FerretDB v1 stops answering altogether on a
    // bulkWrite of about 50 updates.
    const groups = new Map<string, { snapshot: unknown; legacy: boolean; ids: string[] }>()
    for (const doc of docs) {
      const snapshot: unknown = kind.snapshotField ? doc[kind.snapshotField] : undefined
      const legacy = doc.archived === undefined
      const id = `${String(snapshot)}\n${legacy}`
      const group = groups.get(id) ?? { snapshot, legacy, ids: [] as string[] }
      group.ids.push(doc._id)
      groups.set(id, group)
    }
    for (const { snapshot, legacy, ids } of groups.values()) {
      await kind.collection(store).updateMany(
        {
          ...(legacy ? legacyPending : pending),
          _id: idsWithin(ids),
          ...(kind.snapshotField ? { [kind.snapshotField]: snapshot } : {}),
        },
        {
          $set: {
            archived: true,
            archivedAt,
            archive: { bucket: archive.bucket, batchId: batch._id },
            ...(expireAt ? { expireAt } : {}),
          },
        },
      )
    }
    await store.archiveBatches.deleteOne({ _id: batch._id })
    mine.delete(batch._id)
  }

  /** Selects ready documents, records a batch, claims them, and writes what it won. */
  const archiveNext = async (kind: ArchiveKind): Promise<number> => {
    const now = new Date()
    // In no order: a sort would make FerretDB read the whole backlog for each batch. Which
    // archiver copies a document is decided by its claim, not by the order it was found in.
    const select = (notCopied: Document) =>
      kind
        .collection(store)
        .find({ ...notCopied, ...kind.ready(now, settleMs) })
        .limit(batchSize)
        .toArray()
    let docs = await select(pending)
    if (docs.length === 0 && !legacyDone.has(kind.name)) {
      // Costs a read of the whole collection on FerretDB: done until it finds none, then never.
      docs = await select(legacyPending)
      if (docs.length === 0) legacyDone.add(kind.name)
    }
    if (docs.length === 0) return 0
    const batch: ArchiveBatchRecord = {
      _id: newId(),
      format: currentFormat,
      kind: kind.name,
      claimIds: docs.map((doc) => kind.claimId(doc)),
      docIds: docs.map((doc) => doc._id),
      createdAt: now,
      leaseUntil: new Date(now.getTime() + leaseMs),
    }
    // Recorded first: claims never exist without a batch that will finish them.
    await store.archiveBatches.insertOne(batch)
    mine.add(batch._id)
    const lost = await insertClaims(store, batch, keepMs(kind))
    const won = docs.filter((_, i) => !lost.has(i))
    if (won.length === 0) {
      await store.archiveBatches.deleteOne({ _id: batch._id })
      mine.delete(batch._id)
      return 0
    }
    await writeBatch(kind, batch, won)
    return won.length
  }

  /** Finishes batches this archiver left unfinished, and others' whose lease ran out. */
  const finishLeftBatches = async (kind: ArchiveKind): Promise<number> => {
    const now = new Date()
    const left = await store.archiveBatches.find({ kind: kind.name }).toArray()
    let finished = 0
    for (const batch of left) {
      if (!mine.has(batch._id) && batch.leaseUntil > now) continue
      mine.add(batch._id)
      await store.archiveBatches.updateOne(
        { _id: batch._id },
        { $set: { leaseUntil: new Date(now.getTime() + leaseMs) } },
      )
      const won = new Set(
        (
          await store.archiveClaims
            .find({ _id: { $in: batch.claimIds }, batchId: batch._id })
            .project<{ _id: string }>({ _id: 1 })
            .toArray()
        ).map((claim) => claim._id),
      )
      const docs = (
        await kind
          .collection(store)
          .find({ _id: { $in: batch.docIds } })
          .toArray()
      ).filter((doc) => won.has(kind.claimId(doc)))
      const written = docs.filter(
        (doc) => (doc.archive as Document | undefined)?.batchId === batch._id,
      )
      if (written.length > 0) {
        // Marking starts after every object is written: only the marks are missing.
        await markArchived(
          kind,
          batch,
          docs.filter((doc) => !written.includes(doc)),
        )
      } else {
        await writeBatch(kind, batch, docs)
      }
      finished += docs.length
      logger.info(
        { batchId: batch._id, kind: kind.name, count: docs.length },
        'finished an archive batch left unfinished',
      )
    }
    return finished
  }

  const runOnce = async () => {
    await ensureBucket()
    let archived = 0
    for (const kind of archiveKinds) {
      archived += await finishLeftBatches(kind)
      // Several batches per run while there is a backlog; the next run goes on.
      for (let i = 0; i < 10; i++) {
        const count = await archiveNext(kind)
        archived += count
        if (count < batchSize) break
      }
    }
    return { archived }
  }

  return { runOnce }
}

/**
 * Runs an archiver every `intervalMs`; while S3 or MongoDB fails, it waits twice as long after
 * each failure (up to `maxBackoffMs`) and says so. Returns the function that stops it.
 */
export function startArchiver(options: Parameters<typeof createArchiver>[0]): () => Promise<void> {
  const { archive, logger } = options
  const archiver = createArchiver(options)
  const intervalMs = archive.intervalMs ?? 10_000
  const maxBackoffMs = archive.maxBackoffMs ?? 60_000
  let failuresInARow = 0
  const nextDelay = () =>
    failuresInARow === 0 ? intervalMs : Math.min(maxBackoffMs, intervalMs * 2 ** failuresInARow)
  return runEvery(
    nextDelay,
    async () => {
      const { archived } = await archiver.runOnce()
      if (failuresInARow > 0) logger.info({ archived }, 'archiving works again')
      failuresInARow = 0
      if (archived > 0) logger.debug({ archived }, 'archived')
    },
    (error) => {
      failuresInARow++
      logger.warn(
        { err: error, bucket: archive.bucket, failuresInARow, nextTryMs: nextDelay() },
        `archiving failed (${(error as Error).message}); nothing is lost or removed: documents wait in MongoDB until they are copied`,
      )
    },
  )
}

/** Inserts the batch's claims; returns the positions another batch had claimed already. */
/**
 * Claims the batch's documents; returns the indexes of those another batch holds. With a keep
 * time, a claim expires a week after its document may (`claimKeepMs`), set here rather than
 * once the document is marked: on FerretDB that second update cost as much as the marking.
 */
async function insertClaims(
  store: EventStore,
  batch: ArchiveBatchRecord,
  keepMs: number | undefined,
): Promise<Set<number>> {
  const claimedAt = new Date()
  const expireAt =
    keepMs === undefined ? undefined : new Date(claimedAt.getTime() + keepMs + claimKeepMs)
  try {
    await store.archiveClaims.insertMany(
      batch.claimIds.map((_id) => ({
        _id,
        format: currentFormat,
        batchId: batch._id,
        claimedAt,
        ...(expireAt ? { expireAt } : {}),
      })),
      { ordered: false },
    )
    return new Set()
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError) || !isDuplicateKey(error)) throw error
    return new Set([error.writeErrors].flat().map((e) => e.index))
  }
}
