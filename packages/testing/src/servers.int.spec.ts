import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { IncomingWebhook } from '@slack/webhook'
import { MongoClient, MongoServerError } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from './eventually.ts'
import { createS3Client, createTestNamespace } from './namespace.ts'
import { getTestServers } from './servers.ts'
import { startSlackReceiver } from './slack-receiver.ts'

// The foundation's promise: each real server answers, and a test that depends on it can fail.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'servers')

describe('test servers', () => {
  let nc: NatsConnection
  let mongo: MongoClient
  beforeAll(async () => {
    nc = await connect({ servers: servers.natsUrl })
    mongo = await new MongoClient(servers.mongodbUrl).connect()
  })
  afterAll(async () => {
    await nc?.close()
    await mongo?.close()
    await ns.cleanup()
  })

  it('NATS: a JetStream publish reaches a durable pull consumer, and Nats-Msg-Id deduplicates', async () => {
    const jsm = await jetstreamManager(nc)
    const stream = `${ns.subjectPrefix}_events`
    await jsm.streams.add({ name: stream, subjects: [`${ns.subjectPrefix}.>`] })
    await jsm.consumers.add(stream, { durable_name: 'greeter', ack_policy: AckPolicy.Explicit })

    const js = jetstream(nc)
    const subject = `${ns.subjectPrefix}.Greeting.sent`
    const first = await js.publish(subject, JSON.stringify({ hello: 'world' }), { msgID: 'evt-1' })
    const again = await js.publish(subject, JSON.stringify({ hello: 'world' }), { msgID: 'evt-1' })
    expect(first.duplicate).toBe(false)
    expect(again.duplicate).toBe(true)
    expect(again.seq).toBe(first.seq)

    const consumer = await js.consumers.get(stream, 'greeter')
    const messages = await consumer.consume({ max_messages: 10 })
    const received: unknown[] = []
    for await (const message of messages) {
      received.push(message.json())
      message.ack()
      if (received.length === 1) break
    }
    expect(received).toEqual([{ hello: 'world' }])
    const info = await consumer.info()
    expect(info.num_pending).toBe(0)
  })

  it('MongoDB: a unique index rejects a duplicate with code 11000', async () => {
    const ledger = mongo.db(ns.database).collection<{ eventId: string; group: string }>('ledger')
    await ledger.createIndex({ eventId: 1, group: 1 }, { unique: true })
    await ledger.insertOne({ eventId: 'evt-1', group: 'blogs.updateAuthor' })
    const duplicate = ledger.insertOne({ eventId: 'evt-1', group: 'blogs.updateAuthor' })
    await expect(duplicate).rejects.toBeInstanceOf(MongoServerError)
    await expect(duplicate).rejects.toMatchObject({ code: 11000 })
    expect(await ledger.countDocuments()).toBe(1)
  })

  it('S3: an object put into a bucket is read back', async () => {
    const s3 = createS3Client(servers.s3)
    try {
      await s3.send(new CreateBucketCommand({ Bucket: ns.bucket }))
      const body = JSON.stringify({ eventId: 'evt-1' }) + '\n'
      await s3.send(
        new PutObjectCommand({ Bucket: ns.bucket, Key: 'events/evt-1.jsonl', Body: body }),
      )
      const got = await s3.send(
        new GetObjectCommand({ Bucket: ns.bucket, Key: 'events/evt-1.jsonl' }),
      )
      expect(await got.Body?.transformToString()).toBe(body)
    } finally {
      s3.destroy()
    }
  })

  it('Slack receiver: records webhook POSTs, and fails when told to', async () => {
    const receiver = await startSlackReceiver({ failFirst: 1 })
    try {
      const webhook = new IncomingWebhook(receiver.url)
      await expect(webhook.send({ text: 'first try' })).rejects.toThrow()
      await webhook.send({
        text: 'DLQ: 1 entry',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*1*' } }],
      })
      const delivered = await receiver.waitForDelivered(1)
      expect(delivered[0]?.body).toMatchObject({ text: 'DLQ: 1 entry' })
      expect(receiver.posts.map((p) => p.status)).toEqual([500, 200])
    } finally {
      await receiver.close()
    }
  })
})

describe('test namespace', () => {
  it('cleanup removes the database, the streams with its prefix and the bucket', async () => {
    const own = createTestNamespace(servers, 'cleanup')
    const mongo = await new MongoClient(servers.mongodbUrl).connect()
    const nc = await connect({ servers: servers.natsUrl })
    const s3 = createS3Client(servers.s3)
    try {
      await mongo
        .db(own.database)
        .collection('events')
        .insertOne({ _id: 'x' } as never)
      const jsm = await jetstreamManager(nc)
      await jsm.streams.add({
        name: `${own.subjectPrefix}_a`,
        subjects: [`${own.subjectPrefix}.>`],
      })
      await s3.send(new CreateBucketCommand({ Bucket: own.bucket }))
      await s3.send(new PutObjectCommand({ Bucket: own.bucket, Key: 'k', Body: 'v' }))

      await own.cleanup()

      const databases = await mongo.db().admin().listDatabases()
      expect(databases.databases.map((d) => d.name)).not.toContain(own.database)
      const streams: string[] = []
      for await (const name of jsm.streams.names()) streams.push(name)
      expect(streams.filter((s) => s.startsWith(own.subjectPrefix))).toEqual([])
      await expect(
        s3.send(new GetObjectCommand({ Bucket: own.bucket, Key: 'k' })),
      ).rejects.toThrow()
    } finally {
      s3.destroy()
      await nc.close()
      await mongo.close()
    }
  })

  it('gives each call its own names', () => {
    const a = createTestNamespace(servers, 'same label')
    const b = createTestNamespace(servers, 'same label')
    expect(a.database).not.toBe(b.database)
    expect(a.database).toMatch(/^t_same_label_[0-9a-f]{8}$/)
    expect(a.bucket).toMatch(/^t-same-label-[0-9a-f]{8}$/)
  })
})

describe('eventually', () => {
  it('returns once the check passes, and reports the last failure after the deadline', async () => {
    let calls = 0
    expect(
      await eventually(() => (++calls < 3 ? Promise.reject(new Error('not yet')) : calls)),
    ).toBe(3)
    await expect(
      eventually(
        () => {
          throw new Error('never')
        },
        { timeoutMs: 100 },
      ),
    ).rejects.toThrow('after 100 ms: never')
  })
})
