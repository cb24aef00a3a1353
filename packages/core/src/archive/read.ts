import type { S3Client } from '@aws-sdk/client-s3'
import type { EventRecord } from '../store/event-store.ts'
import { decodeObject, partitionPrefix, utcDay, type StoredDoc } from './layout.ts'
import { s3Sdk } from '../optional-peers.ts'

/** Which archived events to read. Every bound is optional; the days read follow `since`/`until`. */
export interface ArchivedEventQuery {
  subjects?: readonly string[]
  /** Events created at or after this time. */
  since?: Date
  /** Events created before this time. */
  until?: Date
  operationId?: string
}

const dayMs = 86_400_000

/** The object folders that can hold the query's events: one per day (and subject). */
export function eventPrefixes(prefix: string, query: ArchivedEventQuery, now = new Date()) {
  if (!query.since) return [`${prefix}events/`]
  const days: string[] = []
  const last = utcDay(query.until ?? now)
  for (let t = query.since.getTime(); utcDay(new Date(t)) <= last; t += dayMs) {
    days.push(utcDay(new Date(t)))
  }
  return days.flatMap((day) =>
    query.subjects?.length
      ? query.subjects.map((subject) =>
          partitionPrefix(prefix, 'events', day, `subject=${subject}`),
        )
      : [partitionPrefix(prefix, 'events', day)],
  )
}

export function matchesQuery(event: EventRecord, query: ArchivedEventQuery): boolean {
  return (
    (!query.subjects?.length || query.subjects.includes(event.subject)) &&
    (!query.since || event.createdAt >= query.since) &&
    (!query.until || event.createdAt < query.until) &&
    (!query.operationId || event.operationId === query.operationId)
  )
}

/**
 * Reads archived events as they were written (upcasting is the reader's: a handler upcasts on
 * delivery). Lists only the day and subject folders the query can match, object by object.
 */
export async function* readArchivedEvents(
  s3: S3Client,
  archive: { bucket: string; prefix?: string },
  query: ArchivedEventQuery,
): AsyncGenerator<EventRecord> {
  const { GetObjectCommand, ListObjectsV2Command } = s3Sdk()
  for (const folder of eventPrefixes(archive.prefix ?? '', query)) {
    let token: string | undefined
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: archive.bucket,
          Prefix: folder,
          ContinuationToken: token,
        }),
      )
      for (const { Key } of page.Contents ?? []) {
        if (!Key?.endsWith('.jsonl.gz')) continue
        const object = await s3.send(new GetObjectCommand({ Bucket: archive.bucket, Key }))
        const body = await object.Body!.transformToByteArray()
        for (const doc of decodeObject(body) as StoredDoc[]) {
          const event = doc as unknown as EventRecord
          if (matchesQuery(event, query)) yield event
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
  }
}
