import { randomUUID } from 'node:crypto'
import { AckPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream'
import { connect, headers, type NatsConnection } from '@nats-io/transport-node'
import type { MongoClient } from 'mongodb'
import { BenchEvent, benchData, nowMs } from './events.ts'

/**
 * The baseline, written by hand the way a careful user would with the same clients: the
 * publisher inserts each event document, then publishes it with Nats-Msg-Id; a durable consumer
 * inserts a processed-ledger document, then acks. One call each.
 */
export interface RawPipeline {
  publish(n: number, bytes: number): Promise<void>
  /** Deliveries handled (ledger written, acked). */
  handled(): number
  /** Publish-to-handler-start latencies (ms), when recording. */
  latencies: number[]
  stop(): Promise<void>
}

/** Where a pipeline runs, and how many deliveries its consumer handles at once. */
export interface PipelineOptions {
  natsUrl: string
  mongo: MongoClient
  database: string
  stream: string
  subjectPrefix: string
  concurrency: number
}

export async function startRawPipeline(
  options: PipelineOptions,
): Promise<RawPipeline & { nc: NatsConnection }> {
  const { mongo, database, stream, subjectPrefix, concurrency } = options
  const db = mongo.db(database)
  const events = db.collection<{ _id: string }>('events')
  const ledger = db.collection<{ _id: string; processedAt: Date }>('processed')
  const nc = await connect({ servers: options.natsUrl })
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({ name: stream, subjects: [`${subjectPrefix}.>`] })
  await jsm.consumers.add(stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit })
  const js = jetstream(nc)
  const subject = `${subjectPrefix}.${BenchEvent.subject}`
  const operationId = randomUUID()

  const latencies: number[] = []
  let handled = 0
  let inFlight = 0
  let freeSlot: (() => void) | undefined
  const messages: ConsumerMessages = await (
    await js.consumers.get(stream, 'raw')
  ).consume({ max_messages: concurrency })
  const loop = (async () => {
    for await (const msg of messages) {
      const data = msg.json<{ sentAt: number }>()
      latencies.push(nowMs() - data.sentAt)
      inFlight += 1
      void ledger
        .insertOne({ _id: `${msg.headers?.get('Nats-Msg-Id')}/raw`, processedAt: new Date() })
        .then(() => {
          msg.ack()
          handled += 1
        })
        .catch(() => msg.nak())
        .finally(() => {
          inFlight -= 1
          freeSlot?.()
        })
      while (inFlight >= concurrency) await new Promise<void>((resolve) => (freeSlot = resolve))
    }
  })()

  return {
    nc,
    latencies,
    handled: () => handled,
    async publish(n, bytes) {
      const data = benchData(n, bytes)
      const id = randomUUID()
      await events.insertOne({
        _id: id,
        subject: BenchEvent.subject,
        version: 1,
        data,
        operationId,
        parentId: operationId,
        createdAt: new Date(),
      } as { _id: string })
      const h = headers()
      h.set('Event-Id', id)
      await js.publish(subject, JSON.stringify(data), { msgID: id, headers: h })
    },
    async stop() {
      await messages.close()
      await loop
      await nc.drain()
    },
  }
}
