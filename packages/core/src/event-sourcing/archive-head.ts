import { createHash } from 'node:crypto'
import type { S3Client } from '@aws-sdk/client-s3'
import type { Logger } from 'pino'
import { decodeObject, encodeObject } from '../archive/layout.ts'
import { bucketEnsurer } from '../archive/bucket.ts'
import { ConfigurationError } from '../errors.ts'
import { s3Sdk } from '../optional-peers.ts'
import type { EventStore, StreamAppendRecord, StreamEntry } from '../store/event-store.ts'
import { streamHead, type ArchivedEntries } from './read.ts'
import { parseStreamName } from './stream-types.ts'

/** The S3 archive a service was given (`ServiceOptions.archive`). */
export interface StreamArchive {
  s3: S3Client
  bucket: string
  prefix?: string
}

export interface ArchiveHeadOptions {
  /** Events at the end of the stream that stay in MongoDB. Default 1,000. */
  keep?: number
}

export interface ArchiveHeadResult {
  /** Events whose data moved to S3 in this call (0: nothing old enough, or done before). */
  events: number
  /** The object that holds them, when there were any. */
  key?: string
}

/**
 * Moves the data of a stream's older appends to S3, keeping the last `keep` events in MongoDB:
 *
 * ```
 * <prefix>streams/type=<type>/<sha256 of the stream name>/<from>-<to>.jsonl.gz
 * ```
 *
 * one object per call, each line an append document as it was. Each append document stays in
 * MongoDB without its events' data (their ids stay, and its `_id`, `from` and `to`: it is still
 * the claim of its position), and points at the object. The object is written first: a crash
 * after it leaves the documents whole, and the next call writes it again. Reads of archived
 * positions fetch their objects (one GET each); a fold from a snapshot past them fetches none.
 */
export async function archiveStreamHead(
  deps: { store: EventStore; archive?: StreamArchive; logger: Logger },
  name: string,
  { keep = 1_000 }: ArchiveHeadOptions = {},
): Promise<ArchiveHeadResult> {
  const { store, archive } = deps
  const stream = { name, ...parseStreamName(name) }
  if (!archive)
    throw new ConfigurationError(
      `archiving ${stream.name} needs the S3 archive: give the service its archive options`,
    )
  if (!Number.isSafeInteger(keep) || keep < 0)
    throw new RangeError(`keep must be a number of events (0 or more), got ${keep}`)
  const head = await streamHead(store, name)
  const old = await store.eventStreams
    .find({ stream: stream.name, archive: { $exists: false }, to: { $lte: head - keep } })
    .sort({ to: 1 })
    .toArray()
  if (old.length === 0) return { events: 0 }
  const digest = createHash('sha256').update(stream.name).digest('hex')
  const key = `${archive.prefix ?? ''}streams/type=${stream.type}/${digest}/${old[0]!.from}-${old.at(-1)!.to}.jsonl.gz`
  await bucketEnsurer(archive.s3, archive.bucket, deps.logger)()
  const { PutObjectCommand } = s3Sdk()
  await archive.s3.send(
    new PutObjectCommand({
      Bucket: archive.bucket,
      Key: key,
      Body: encodeObject(old),
      ContentType: 'application/x-ndjson',
      ContentEncoding: 'gzip',
    }),
  )
  const archivedAt = new Date()
  await store.eventStreams.bulkWrite(
    old.map((append) => ({
      updateOne: {
        filter: { _id: append._id, archive: { $exists: false } },
        update: {
          $set: {
            archive: { bucket: archive.bucket, key, archivedAt },
            events: append.events.map((e) => ({ id: e.id })),
          },
        },
      },
    })),
    { ordered: false },
  )
  const events = old.reduce((sum, append) => sum + append.events.length, 0)
  deps.logger.info(
    { stream: stream.name, events, key },
    "moved a stream's older events to the S3 archive",
  )
  return { events, key }
}

/** Reads the events of archived appends from their objects, each object once. */
export function archivedEntries(archive: StreamArchive | undefined): ArchivedEntries {
  return async (appends) => {
    const wanted = appends.filter((a) => a.archive)
    if (!archive)
      throw new ConfigurationError(
        `stream ${wanted[0]?.stream}: positions ${wanted[0]?.from}–${wanted.at(-1)?.to} are archived in S3; give the service its archive options to read them`,
      )
    const { GetObjectCommand } = s3Sdk()
    const found = new Map<string, StreamEntry[]>()
    const objects = new Map<string, { bucket: string; key: string }>()
    for (const append of wanted) objects.set(append.archive!.key, append.archive!)
    for (const { bucket, key } of objects.values()) {
      const object = await archive.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      const body = await object.Body!.transformToByteArray()
      for (const doc of decodeObject(body) as StreamAppendRecord[])
        found.set(doc._id, doc.events as StreamEntry[])
    }
    const missing = wanted.find((a) => !found.has(a._id))
    if (missing)
      throw new Error(
        `stream ${missing.stream}: the append of positions ${missing.from}–${missing.to} is not in s3://${missing.archive!.bucket}/${missing.archive!.key}`,
      )
    return found
  }
}
