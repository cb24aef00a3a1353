// The main job, for now: one event recorded in MongoDB, published on JetStream with
// Nats-Msg-Id = eventId, handled by a durable consumer that writes a processed-ledger entry.
// The blog service (users, blogs, comments, gateway) replaces this once the core exists.
import { randomUUID } from 'node:crypto'
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { MongoClient } from 'mongodb'

interface EventDocument {
  _id: string
  subject: string
  version: number
  data: { greeting: string }
  createdAt: Date
  publishedAt?: Date
}

function requiredEnv(name: string): string {
  const value = process.env[name]
  if (!value)
    throw new Error(`${name} is not set: run \`./dev.sh start\`, which starts local servers`)
  return value
}

const streamName = 'HELLO'
const subject = 'Hello.greeted'
const group = 'hello-greeter'

const mongo = await new MongoClient(requiredEnv('MONGODB_URL')).connect()
const nc = await connect({ servers: requiredEnv('NATS_URL'), name: 'blog-service' })
try {
  const db = mongo.db('event_driven_hello')
  const events = db.collection<EventDocument>('events')
  const ledger = db.collection<{ _id: string; handledAt: Date }>('processed')

  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({ name: streamName, subjects: ['Hello.>'] }).catch(async () => {
    await jsm.streams.info(streamName) // exists already: fine
  })
  await jsm.consumers.add(streamName, { durable_name: group, ack_policy: AckPolicy.Explicit })

  const eventId = randomUUID()
  await events.insertOne({
    _id: eventId,
    subject,
    version: 1,
    data: { greeting: 'hello, event-driven' },
    createdAt: new Date(),
  })
  const js = jetstream(nc)
  await js.publish(subject, JSON.stringify({ eventId, greeting: 'hello, event-driven' }), {
    msgID: eventId,
  })
  await events.updateOne({ _id: eventId }, { $set: { publishedAt: new Date() } })
  console.log(`published ${subject} ${eventId}`)

  const consumer = await js.consumers.get(streamName, group)
  const messages = await consumer.consume()
  for await (const message of messages) {
    const { eventId: handledId, greeting } = message.json<{ eventId: string; greeting: string }>()
    await ledger.updateOne(
      { _id: `${handledId}:${group}` },
      { $setOnInsert: { handledAt: new Date() } },
      { upsert: true },
    )
    message.ack()
    console.log(`handled ${message.subject} ${handledId} by ${group}: "${greeting}"`)
    if (handledId === eventId) break
  }
} finally {
  await nc.close()
  await mongo.close()
}
