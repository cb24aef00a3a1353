import {
  createTestNamespace,
  eventually,
  getTestServers,
  startNatsServer,
} from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'
import { PublishError } from '../errors.ts'
import { recordEffect, TaskCreated, type EffectRecord } from '../testing/task-events.ts'
import { createTestService } from '../testing/test-service.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'broker restart')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
afterAll(async () => {
  await mongo.close()
  await ns.cleanup()
})

describe('NATS stopped and started during a run', () => {
  it('500 events: none lost, none handled twice', async () => {
    const broker = await startNatsServer()
    const effects = mongo.db(ns.database).collection<EffectRecord>('effects')
    const svc = await createTestService(ns, { ...servers, natsUrl: broker.url }, 'tasks')
    try {
      svc.on(TaskCreated, { handler: 'recordTask', concurrency: 16 }, (event) =>
        recordEffect(effects, event),
      )
      await svc.start()
      const op = await svc.startOperation({ name: 'createTasks' })
      const publish = (from: number, count: number) =>
        Promise.allSettled(
          Array.from({ length: count }, (_, i) => op.publish(TaskCreated, { n: from + i })),
        )

      const before = await publish(0, 250)
      expect(before.filter((r) => r.status === 'rejected')).toEqual([])
      await eventually(async () => expect(await effects.countDocuments()).toBeGreaterThan(0))

      await broker.stop() // mid-run: handlers in flight, acks unsent
      const during = await publish(250, 250)
      const rejected = during.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))
      expect(rejected.length).toBeGreaterThan(0)
      expect(rejected.every((e) => e instanceof PublishError)).toBe(true)
      await broker.start()

      await eventually(async () => expect(await effects.countDocuments()).toBe(500), {
        timeoutMs: 60_000,
      })
      const all = await effects.find().toArray()
      expect(all.filter((e) => e.runs !== 1).map((e) => [e.n, e.runs])).toEqual([])
      expect(new Set(all.map((e) => e.n)).size).toBe(500)
    } finally {
      await svc.stop()
      await broker.dispose()
    }
  })
})
