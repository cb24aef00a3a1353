import { randomBytes } from 'node:crypto'
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { MongoClient } from 'mongodb'
import type { S3Server, TestServers } from './servers.ts'

/**
 * Names that belong to one test file, so that files run in parallel on shared servers:
 * a MongoDB database, a prefix for subjects and stream names, an S3 bucket.
 */
export interface TestNamespace {
  /** `t_<label>_<random>`: unique per call. */
  id: string
  /** MongoDB database name; databases named with it as a prefix are this file's too. */
  database: string
  /** Prefix for subjects (`${subjectPrefix}.User.registered`) and stream names. */
  subjectPrefix: string
  /** S3 bucket name (lowercase, hyphens); buckets named `<bucket>-…` are this file's too. */
  bucket: string
  /** Drops the databases, streams and buckets whose names start with the id (or bucket name). */
  cleanup(): Promise<void>
}

/** Creates a namespace; `label` (usually the test file's topic) makes the names readable. */
export function createTestNamespace(servers: TestServers, label: string): TestNamespace {
  const slug =
    label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 24) || 'test'
  const id = `t_${slug}_${randomBytes(4).toString('hex')}`
  return {
    id,
    database: id,
    subjectPrefix: id,
    bucket: id.replace(/_/g, '-'),
    cleanup: () => cleanupNamespace(servers, id, id.replace(/_/g, '-')),
  }
}

async function cleanupNamespace(servers: TestServers, id: string, bucket: string): Promise<void> {
  const results = await Promise.allSettled([
    dropDatabases(servers.mongodbUrl, id),
    deleteStreams(servers.natsUrl, id),
    deleteBuckets(servers.s3, bucket),
  ])
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))
  if (errors.length > 0) throw new AggregateError(errors, `cleanup of test namespace ${id} failed`)
}

async function dropDatabases(url: string, prefix: string): Promise<void> {
  const client = new MongoClient(url)
  try {
    const { databases } = await client.db().admin().listDatabases({ nameOnly: true })
    for (const { name } of databases) {
      if (name.startsWith(prefix)) await client.db(name).dropDatabase()
    }
  } finally {
    await client.close()
  }
}

async function deleteStreams(url: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: url })
  try {
    const jsm = await jetstreamManager(nc)
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(prefix)) await jsm.streams.delete(name)
    }
  } finally {
    await nc.close()
  }
}

/** An S3 client for a test server (path-style, as local S3 servers need). */
export function createS3Client(s3: S3Server): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  })
}

/** Empties and deletes the bucket, and the buckets whose names start with it (`<bucket>-…`). */
async function deleteBuckets(s3: S3Server, bucket: string): Promise<void> {
  const client = createS3Client(s3)
  try {
    const { Buckets = [] } = await client.send(new ListBucketsCommand({}))
    for (const { Name } of Buckets) {
      if (!Name || (Name !== bucket && !Name.startsWith(`${bucket}-`))) continue
      for (;;) {
        const page = await client.send(new ListObjectsV2Command({ Bucket: Name }))
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []))
        if (keys.length === 0) break
        await client.send(new DeleteObjectsCommand({ Bucket: Name, Delete: { Objects: keys } }))
      }
      await client.send(new DeleteBucketCommand({ Bucket: Name }))
    }
  } finally {
    client.destroy()
  }
}
