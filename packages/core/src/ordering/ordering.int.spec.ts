import { setTimeout as sleep } from 'node:timers/promises'
import { jetstream } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { afterAll, describe, expect, it } from 'vitest'
import type { Service } from '../service.ts'
import { TaskUpdated } from '../testing/task-events.ts'
import { createTestService, fastTestOptions } from '../testing/test-service.ts'
import { readKeyedSubject } from './keyed-subjects.ts'
import { partitionKeyOf, partitionOf } from './partition-key.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'ordering')
const nc = await connect({ servers: servers.natsUrl })
afterAll(async () => {
  await nc.close()
  await ns.cleanup()
})

const partitions = 16

/** Every `Task.updated` of a scope's stream, in stream order: per key, the `seq`s it carries. */
async function streamOrder(scope: string, count: number) {
  const { stream } = fastTestOptions(ns, scope)
  const consumer = await jetstream(nc).consumers.get(stream!.name!, {
    filter_subjects: [`${stream!.subjectPrefix!}._k.>`],
  })
  const order = new Map<string, number[]>()
  const partitionsSeen: { key: string; partition: number }[] = []
  const messages = await consumer.fetch({ max_messages: count, expires: 5_000 })
  for await (const msg of messages) {
    const { key, seq } = msg.json<{ key: string; seq: number }>()
    order.set(key, [...(order.get(key) ?? []), seq])
    partitionsSeen.push({
      key,
      partition: readKeyedSubject(stream!.subjectPrefix!, msg.subject)!.partition,
    })
    if (partitionsSeen.length === count) break
  }
  return { order, partitionsSeen }
}

/**
 * A handler that is not order-tolerant: it appends each `seq` to its key's list, and notes any
 * run that starts while another run of the same key is still going.
 */
function recorder() {
  const applied = new Map<string, number[]>()
  const running = new Map<string, number>()
  const overlaps: string[] = []
  const runs: { key: string; seq: number; attempt: number; at: number; instance: string }[] = []
  const handler =
    (instance: string, fail?: (seq: number, attempt: number) => boolean) =>
    async (
      event: { data: { key: string; seq: number } },
      ctx: { attempt: number },
    ): Promise<void> => {
      const { key, seq } = event.data
      const other = running.get(key)
      if (other !== undefined) overlaps.push(`${key}: ${seq} started while ${other} ran`)
      running.set(key, seq)
      try {
        runs.push({ key, seq, attempt: ctx.attempt, at: Date.now(), instance })
        await sleep(Math.random() * 4)
        if (fail?.(seq, ctx.attempt))
          throw new Error(`update ${seq} failed on attempt ${ctx.attempt}`)
        applied.set(key, [...(applied.get(key) ?? []), seq])
      } finally {
        running.delete(key)
      }
    }
  return { applied, overlaps, runs, handler }
}

/** Publishes `perKey` updates of each key, all at once (32 in flight): JetStream decides the order. */
async function publishUpdates(svc: Service, keys: string[], perKey: number) {
  const op = await svc.startOperation({ name: 'updateTasks' })
  const all = keys.flatMap((key) => Array.from({ length: perKey }, () => key))
  let next = 0
  const worker = async () => {
    while (next < all.length) {
      const seq = next++
      await op.publish(TaskUpdated, { key: all[seq]!, seq })
    }
  }
  await Promise.all(Array.from({ length: 32 }, worker))
  await op.complete()
}

describe('an ordered consumer group (a keyed event)', () => {
  it('1,000 updates over 20 keys, 2 instances with concurrency 8 each: every key in stream order', async () => {
    const scope = 'order'
    const keys = Array.from({ length: 20 }, (_, i) => `task ${i}.*>`)
    const rec = recorder()
    const instances = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const svc = await createTestService(ns, servers, 'tasks', { scope })
        svc.on(TaskUpdated, { handler: 'applyUpdate', concurrency: 8 }, rec.handler(name))
        await svc.start()
        return svc
      }),
    )
    try {
      await publishUpdates(instances[0]!, keys, 50)
      await eventually(() => expect([...rec.applied.values()].flat()).toHaveLength(1_000), {
        timeoutMs: 60_000,
      })
      const { order, partitionsSeen } = await streamOrder(scope, 1_000)
      for (const key of keys) expect(rec.applied.get(key)).toEqual(order.get(key))
      expect(rec.overlaps).toEqual([])
      // Both instances took part, and no delivery was repeated.
      expect(new Set(rec.runs.map((r) => r.instance))).toEqual(new Set(['a', 'b']))
      expect(rec.runs.filter((r) => r.attempt !== 1)).toEqual([])
      // JetStream put each key where the framework computes it would.
      for (const { key, partition } of partitionsSeen)
        expect(partition).toBe(partitionOf(partitionKeyOf(key), partitions))
    } finally {
      await Promise.all(instances.map((svc) => svc.stop()))
    }
  }, 120_000)
})
