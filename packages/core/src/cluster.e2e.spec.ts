import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { connect } from '@nats-io/transport-node'
import { MongoClient } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'
import { PublishError } from './errors.ts'
import { streamOrderOf } from './testing/ordering.ts'
import { recordEffect, TaskCreated, TaskUpdated, type EffectRecord } from './testing/task-events.ts'
import { createTestService, fastTestOptions } from './testing/test-service.ts'

// A three-node JetStream cluster of the test's own, the stream replicated on all three (R3): the
// node that leads the stream is killed (SIGKILL) in the middle of a run and started again later.
const servers = await getTestServers({ natsCluster: true })
const cluster = servers.natsCluster!
const ns = createTestNamespace(servers, 'cluster')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
afterAll(async () => {
  await mongo.close()
  await ns.cleanup()
  await servers.stop()
})

const events = 5_000

describe('a three-node JetStream cluster, the stream on three replicas', () => {
  it('5,000 events while the stream leader is killed and restarted: none lost, none handled twice', async () => {
    const scope = 'r3'
    const stream = { ...fastTestOptions(ns, scope).stream, replicas: 3 }
    const effects = mongo.db(ns.database).collection<EffectRecord>('cluster_effects')
    const svc = await createTestService(ns, servers, 'tasks', { scope, stream })
    try {
      svc.on(TaskCreated, { handler: 'recordTask', concurrency: 16 }, (event) =>
        recordEffect(effects, event),
      )
      await svc.start()
      const op = await svc.startOperation({ name: 'createTasks' })
      let refused = 0
      let lastRefusedAt = 0
      const publish = async (n: number) => {
        try {
          await op.publish(TaskCreated, { n })
          return Date.now()
        } catch (error) {
          // Recorded, not confirmed: the relay publishes it once the stream has a leader again.
          expect(error).toBeInstanceOf(PublishError)
          refused++
          lastRefusedAt = Date.now()
          return undefined
        }
      }
      const inFlight = 32
      let next = 0
      let killedAt = 0
      let resumedAt = 0
      const leader = await cluster.streamLeader(stream.name!)
      const worker = async () => {
        while (next < events) {
          const n = next++
          if (n === 1_500) {
            killedAt = Date.now()
            await leader.kill()
          }
          const confirmedAt = await publish(n)
          if (killedAt && !resumedAt && confirmedAt && confirmedAt > killedAt + 50)
            resumedAt = confirmedAt
          if (n === 3_500) await leader.start()
        }
      }
      await Promise.all(Array.from({ length: inFlight }, worker))
      await cluster.ready()

      await eventually(async () => expect(await effects.countDocuments()).toBe(events), {
        timeoutMs: 120_000,
      })
      const all = await effects.find().toArray()
      expect(all.filter((e) => e.runs !== 1).map((e) => [e.n, e.runs])).toEqual([])
      expect(new Set(all.map((e) => e.n)).size).toBe(events)
      const newLeader = await cluster.streamLeader(stream.name!)
      // Reported, asserted loosely: 2 shared cores make tight bounds flaky.
      const resumeMs = (resumedAt || lastRefusedAt) - killedAt
      console.log(
        `cluster: leader ${leader.name} killed; publishing resumed after ${resumeMs} ms; ${refused} publishes were refused during the run (recorded, then published by the relay); leader now ${newLeader.name}`,
      )
      expect(resumeMs).toBeLessThan(60_000)
    } finally {
      await svc.stop()
    }
  }, 240_000)

  it('ordered: 1,000 keyed updates over 50 keys while the stream leader is killed and restarted: each key in stream order, none lost, none handled twice', async () => {
    const scope = 'r3keyed'
    const stream = { ...fastTestOptions(ns, scope).stream, replicas: 3 }
    const svc = await createTestService(ns, servers, 'tasks', { scope, stream })
    const applied = new Map<string, number[]>()
    const runs = new Map<string, number>()
    const total = 1_000
    try {
      svc.on(TaskUpdated, { handler: 'applyUpdate' }, async (event) => {
        runs.set(event.id, (runs.get(event.id) ?? 0) + 1)
        const { key, seq } = event.data
        applied.set(key, [...(applied.get(key) ?? []), seq])
      })
      await svc.start()
      const op = await svc.startOperation({ name: 'updateTasks' })
      const leader = await cluster.streamLeader(stream.name!)
      let next = 0
      const worker = async () => {
        while (next < total) {
          const seq = next++
          if (seq === 300) await leader.kill()
          // Refused while the stream has no leader: recorded, and the relay publishes it.
          await op.publish(TaskUpdated, { key: `key-${seq % 50}`, seq }).catch((error) => {
            expect(error).toBeInstanceOf(PublishError)
          })
          if (seq === 700) await leader.start()
        }
      }
      await Promise.all(Array.from({ length: 32 }, worker))
      await cluster.ready()
      await eventually(() => expect(runs.size).toBe(total), { timeoutMs: 120_000 })
      expect([...runs.values()].filter((n) => n !== 1)).toEqual([])
      const nc = await connect({ servers: servers.natsUrl })
      try {
        const { order } = await streamOrderOf(
          nc,
          { name: stream.name!, subjectPrefix: stream.subjectPrefix! },
          total,
        )
        for (const [key, seqs] of order) expect(applied.get(key)).toEqual(seqs)
      } finally {
        await nc.close()
      }
    } finally {
      await svc.stop()
    }
  }, 240_000)
})
