import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../consume/handler.ts'
import { testArchiveOptions } from '../testing/archive.ts'
import type { Service } from '../service.ts'
import { TaskCreated } from '../testing/task-events.ts'
import { createTestService, fastTestOptions } from '../testing/test-service.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'replay')
const archive = testArchiveOptions(servers.s3, ns.bucket)

let billing: Service
let audit: Service
const billed: ReceivedEvent<{ n: number }>[] = []
const audited: ReceivedEvent<{ n: number }>[] = []
beforeAll(async () => {
  billing = await createTestService(ns, servers, 'billing', {
    archive,
    retention: { eventsMs: 0, sweepIntervalMs: 50 },
  })
  audit = await createTestService(ns, servers, 'audit')
  billing.on(TaskCreated, { handler: 'charge' }, async (event) => void billed.push(event))
  audit.on(TaskCreated, { handler: 'record' }, async (event) => void audited.push(event))
  await billing.start()
  await audit.start()
})
afterAll(async () => {
  await billing?.stop()
  await audit?.stop()
  await ns.cleanup()
})

/** Publishes events n = from..to-1, each in its own operation; returns their ids. */
async function publish(from: number, to: number): Promise<string[]> {
  const ids: string[] = []
  for (let n = from; n < to; n++) {
    const op = await billing.startOperation({ name: 'taskCreate', input: { n } })
    ids.push(await op.publish(TaskCreated, { n }))
  }
  return ids
}

/** Both consumer groups have nothing pending and nothing in flight. */
async function settled() {
  const nc = await connect({ servers: servers.natsUrl })
  try {
    const jsm = await jetstreamManager(nc)
    const stream = fastTestOptions(ns).stream!.name!
    for (const durable of ['billing_charge', 'audit_record']) {
      const info = await jsm.consumers.info(stream, durable)
      expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0])
    }
  } finally {
    await nc.close()
  }
}

describe('replay', () => {
  it('a time range from the S3 archive to one consumer group: only that group sees them, each once, with their ids', async () => {
    await publish(0, 5)
    const since = new Date()
    const inRange = await publish(5, 15)
    const until = new Date()
    await publish(15, 20)
    await eventually(() => expect([billed.length, audited.length]).toEqual([20, 20]))

    // The service archives everything and its sweeper drops what is archived from MongoDB:
    // the archive is the only copy left.
    await eventually(async () => expect(await billing.store.events.countDocuments()).toBe(0))

    const select = { since, until }
    const dryRun = await billing.replay({ select, from: 's3', to: 'billing.charge', dryRun: true })
    expect(dryRun).toMatchObject({ matched: 10, delivered: 0, dryRun: true })
    const progress: number[] = []
    const result = await billing.replay({
      select,
      from: 's3',
      to: 'billing.charge',
      onProgress: ({ done }) => progress.push(done),
    })
    expect(result).toMatchObject({ matched: 10, delivered: 10, dryRun: false })
    expect(progress.at(-1)).toBe(10)

    await eventually(() => expect(billed).toHaveLength(30))
    await eventually(settled)
    const replayed = billed.slice(20)
    expect(replayed.map((e) => e.id).sort()).toEqual([...inRange].sort())
    expect(replayed.every((e) => e.redelivery === 'replay')).toBe(true)
    // The chain ids are kept: each replayed event's operation and parent are the originals'.
    for (const event of replayed) {
      const original = billed.find((e) => e.id === event.id && !e.redelivery)!
      expect([event.operationId, event.parentId, event.createdAt]).toEqual([
        original.operationId,
        original.parentId,
        original.createdAt,
      ])
    }
    expect(audited).toHaveLength(20) // the other group saw nothing
  })

  it('selects by consumer group and by operation, from wherever the event is, and refuses an unknown group', async () => {
    const [id] = await publish(100, 101)
    await eventually(() => expect(billed.some((e) => e.id === id)).toBe(true))
    const event = billed.find((e) => e.id === id)!
    const read: string[] = []
    for await (const stored of billing.readEvents(
      { consumerGroup: 'audit.record', operationId: event.operationId },
      'auto',
    )) {
      read.push(stored._id)
    }
    expect(read).toEqual([id])
    await expect(billing.replay({ select: {}, to: 'audit.nothing' })).rejects.toThrow(
      /no consumer group audit\.nothing \(durable audit_nothing\) on stream/,
    )
  })
})
