import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { afterAll, describe, expect, it } from 'vitest'
import type { Service } from '../service.ts'
import { streamOrderOf } from '../testing/ordering.ts'
import { TaskUpdated } from '../testing/task-events.ts'
import { createTestService, fastTestOptions } from '../testing/test-service.ts'
import { partitionTransform } from './keyed-subjects.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'partitions')
const nc = await connect({ servers: servers.natsUrl })
const jsm = await jetstreamManager(nc)
afterAll(async () => {
  await nc.close()
  await ns.cleanup()
})

describe('changing the partition count', () => {
  it('refused while events wait; then 4 → 8 (restarted instances take the new partitions, order kept) and 8 → 2 (empty durables removed)', async () => {
    const scope = 'change'
    const { stream } = fastTestOptions(ns, scope)
    const streamName = stream!.name!
    const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`)
    const applied = new Map<string, number[]>()
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    let holding = true
    const start = async (): Promise<Service> => {
      const svc = await createTestService(ns, servers, 'tasks', {
        scope,
        stream: { ...stream, partitions: 4 },
      })
      svc.on(TaskUpdated, { handler: 'applyUpdate' }, async (event) => {
        if (holding && event.data.seq === 0) await gate
        const { key, seq } = event.data
        applied.set(key, [...(applied.get(key) ?? []), seq])
      })
      await svc.start()
      return svc
    }
    let seq = 0
    const publishRound = async (svc: Service) => {
      const op = await svc.startOperation({ name: 'updateTasks' })
      for (const key of keys) await op.publish(TaskUpdated, { key, seq: seq++ })
    }
    let svc = await start()
    try {
      await publishRound(svc)
      // seq 0 hangs: its partition has an event in flight and others pending behind it.
      await eventually(async () => {
        const { groups } = await svc.partitions.status()
        expect(groups[0]!.partitions.some((p) => p.inFlight > 0)).toBe(true)
      })
      const refused = await svc.partitions.change(8)
      expect(refused.ok).toBe(false)
      expect(!refused.ok && refused.reason).toMatch(/events waiting/)
      expect(!refused.ok && refused.busy.length).toBeGreaterThan(0)
      expect((await jsm.streams.info(streamName)).config.subject_transform).toEqual(
        partitionTransform(stream!.subjectPrefix!, 4),
      )

      holding = false
      release()
      await eventually(() => expect([...applied.values()].flat()).toHaveLength(seq))
      await eventually(async () => expect((await svc.partitions.change(8)).ok).toBe(true))
      const grown = await svc.partitions.status()
      expect(grown.partitions).toBe(8)
      expect(grown.groups[0]!.partitions).toHaveLength(4) // until the instances restart

      // Restarted, the group has a durable per partition; a new round lands over all eight.
      await svc.stop()
      svc = await start()
      expect(svc.streamDifferences.map((d) => d.setting)).toEqual(['subject_transform'])
      expect((await svc.partitions.status()).groups[0]!.partitions).toHaveLength(8)
      await publishRound(svc)
      await publishRound(svc)
      await eventually(() => expect([...applied.values()].flat()).toHaveLength(seq))
      const { order, partitions } = await streamOrderOf(
        nc,
        { name: streamName, subjectPrefix: stream!.subjectPrefix! },
        seq,
      )
      for (const key of keys) expect(applied.get(key)).toEqual(order.get(key))
      expect(Math.max(...partitions.slice(keys.length).map((p) => p.partition))).toBeGreaterThan(3)

      const shrunk = await svc.partitions.change(2)
      expect(shrunk).toMatchObject({ ok: true, from: 8, to: 2, draining: [] })
      expect(shrunk.ok && shrunk.removed.sort()).toEqual(
        [2, 3, 4, 5, 6, 7].map((p) => `tasks_applyUpdate_p${p}`).sort(),
      )
      expect((await svc.partitions.status()).groups[0]!.partitions.map((p) => p.partition)).toEqual(
        [0, 1],
      )
    } finally {
      release()
      await svc.stop()
    }
  }, 120_000)
})
