import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import type { S3Server } from '@event-driven/testing'
import type { Document } from 'mongodb'
import type { ArchiveOptions } from '../archive/archiver.ts'
import { decodeObject, type ArchiveManifest } from '../archive/layout.ts'

/** Archive settings for the test S3 server, with quick passes and no settling wait. */
export function testArchiveOptions(
  s3: S3Server,
  bucket: string,
  overrides: Partial<ArchiveOptions> = {},
): ArchiveOptions {
  return {
    bucket,
    s3: {
      endpoint: s3.endpoint,
      region: s3.region,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    },
    settleMs: 0,
    intervalMs: 50,
    maxBackoffMs: 200,
    ...overrides,
  }
}

/** Everything in a bucket, read back: each data object's documents, and each manifest. */
export async function readBucket(s3: S3Client, bucket: string) {
  const objects = new Map<string, Document[]>()
  const manifests: ArchiveManifest[] = []
  let token: string | undefined
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    )
    for (const { Key } of page.Contents ?? []) {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: Key! }))
      const body = await object.Body!.transformToByteArray()
      if (Key!.endsWith('.jsonl.gz')) objects.set(Key!, decodeObject(body))
      else manifests.push(JSON.parse(Buffer.from(body).toString('utf8')) as ArchiveManifest)
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
  /** How many times each document `_id` of one kind was written. */
  const copies = (kind: string) => {
    const counts = new Map<string, number>()
    for (const [key, docs] of objects) {
      if (!key.startsWith(`${kind}/`)) continue
      for (const doc of docs) counts.set(String(doc._id), (counts.get(String(doc._id)) ?? 0) + 1)
    }
    return counts
  }
  return { objects, manifests, copies }
}
