import { setTimeout as sleep } from 'node:timers/promises'
import { connect } from '@nats-io/transport-node'
import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { EventValidationError } from '../errors.ts'
import { defineEvent } from '../event-definition.ts'
import type { Service } from '../service.ts'
import { TaskUpdated } from '../testing/task-events.ts'
import { streamOrderOf } from '../testing/ordering.ts'
import { createTestService, fastTestOptions } from '../testing/test-service.ts'
import { partitionKeyOf, partitionOf } from './partition-key.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'ordering')
const nc = await connect({ servers: servers.natsUrl })
afterAll(async () => {
  await nc.close()
  await ns.cleanup()
})

const partitions = 16

/** Every `Task.updated` of a scope's stream, in stream order (see `streamOrderOf`). */
function streamOrder(scope: string, count: number) {
  const { stream } = fastTestOptions(ns, scope)
  return streamOrderOf(nc, { name: stream!.name!, subjectPrefix: stream!.subjectPrefix! }, count)
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

/**
 * Publishes `perKey` updates of each key, 32 in flight (JetStream decides the order), `seq` their
 * place in the list: by key (every update of a key, then the next key), or in `rounds` (update r
 * of every key, then update r + 1: seq = r * keys + the key's index).
 */
async function publishUpdates(
  svc: Service,
  keys: string[],
  perKey: number,
  layout: 'byKey' | 'rounds' = 'byKey',
) {
  const op = await svc.startOperation({ name: 'updateTasks' })
  const all =
    layout === 'byKey'
      ? keys.flatMap((key) => Array.from({ length: perKey }, () => key))
      : Array.from({ length: perKey }, () => keys).flat()
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
      const { order, partitions: partitionsSeen } = await streamOrder(scope, 1_000)
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

  it('a handler failing twice on one key: that partition waits, then goes on in order; the others are not held up', async () => {
    const scope = 'wait'
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`)
    const failing = keys[3]!
    const failingPartition = partitionOf(partitionKeyOf(failing), partitions)
    const rec = recorder()
    let failingSeq: number | undefined
    const svc = await createTestService(ns, servers, 'tasks', {
      scope,
      // Long enough a wait to see what the other partitions do meanwhile.
      retry: { baseDelayMs: 400, maxDelayMs: 800 },
    })
    svc.on(
      TaskUpdated,
      { handler: 'applyUpdate', concurrency: 8 },
      rec.handler('a', (seq, attempt) => {
        // The failing key's fifth update fails on its first two attempts.
        const isIt = seq === failingSeq
        return isIt && attempt < 3
      }),
    )
    await svc.start()
    try {
      // Each key's updates in rounds: round r is update r of every key (seq = r * 20 + key).
      failingSeq = 4 * keys.length + 3
      await publishUpdates(svc, keys, 20, 'rounds')
      await eventually(() => expect([...rec.applied.values()].flat()).toHaveLength(400), {
        timeoutMs: 60_000,
      })
      const { order } = await streamOrder(scope, 400)
      for (const key of keys) expect(rec.applied.get(key)).toEqual(order.get(key))
      expect(rec.overlaps).toEqual([])
      const failed = rec.runs.filter((r) => r.seq === failingSeq)
      expect(failed.map((r) => r.attempt)).toEqual([1, 2, 3])
      // Waiting for order is not a failure: every other event was delivered once.
      expect(rec.runs.filter((r) => r.seq !== failingSeq && r.attempt !== 1)).toEqual([])
      // While it waited, the other partitions went on; its own partition did not.
      const waitStart = failed[0]!.at
      const waitEnd = failed[2]!.at
      const meanwhile = rec.runs.filter(
        (r) => r.at > waitStart && r.at < waitEnd && r.seq !== failingSeq,
      )
      const samePartition = (key: string) =>
        partitionOf(partitionKeyOf(key), partitions) === failingPartition
      expect(meanwhile.filter((r) => samePartition(r.key))).toEqual([])
      const others = meanwhile.filter((r) => !samePartition(r.key))
      expect(others.length).toBeGreaterThan(0)
      const othersDoneAt = Math.max(
        ...rec.runs.filter((r) => !samePartition(r.key)).map((r) => r.at),
      )
      console.log(
        `ordering: ${failing} waited ${waitEnd - waitStart} ms for two retries; meanwhile ${others.length} events of other partitions were handled; the other partitions finished ${othersDoneAt < waitEnd ? `${waitEnd - othersDoneAt} ms before it resumed` : `${othersDoneAt - waitEnd} ms after it resumed`}`,
      )
    } finally {
      await svc.stop()
    }
  }, 120_000)

  it('an event given up to the DLQ: its key moves on, the entry says later events of its key were handled after it, a redrive comes after them', async () => {
    const scope = 'dlq'
    const keys = ['doomed', 'fine']
    const rec = recorder()
    const svc = await createTestService(ns, servers, 'tasks', { scope })
    let doomedSeq = -1
    svc.on(
      TaskUpdated,
      { handler: 'applyUpdate', concurrency: 4 },
      rec.handler('a', (seq) => seq === doomedSeq),
    )
    await svc.start()
    try {
      doomedSeq = 2 * keys.length // the third update of 'doomed'
      await publishUpdates(svc, keys, 6, 'rounds')
      await eventually(() => expect([...rec.applied.values()].flat()).toHaveLength(11), {
        timeoutMs: 60_000,
      })
      const { order } = await streamOrder(scope, 12)
      expect(rec.applied.get('doomed')).toEqual(order.get('doomed')!.filter((s) => s !== doomedSeq))
      expect(rec.applied.get('fine')).toEqual(order.get('fine'))
      const { entries } = await svc.dlq.list({ consumerGroup: 'tasks.applyUpdate' })
      expect(entries).toHaveLength(1)
      const entry = entries[0]!
      expect(entry.ordering).toEqual({
        partition: partitionOf(partitionKeyOf('doomed'), partitions),
        partitionKey: partitionKeyOf('doomed'),
      })
      // The key's later updates ran only once the entry was written.
      const later = rec.runs.filter((r) => r.key === 'doomed' && r.seq > doomedSeq)
      expect(later.length).toBe(3)
      for (const run of later) expect(run.at).toBeGreaterThanOrEqual(entry.createdAt.getTime() - 50)
      // A redrive goes to the group's own durable: handled after the key's later updates.
      doomedSeq = -1
      expect(await svc.dlq.redrive(entry._id, 'ops')).toMatchObject({ ok: true })
      await eventually(() => expect(rec.applied.get('doomed')).toHaveLength(6))
      expect(rec.applied.get('doomed')!.at(-1)).toBe(2 * keys.length)
    } finally {
      await svc.stop()
    }
  }, 120_000)

  it('any key (dots, wildcards, spaces, control characters, kilobytes): handled, on the partition the framework computes', async () => {
    const scope = 'hostile'
    const rec = recorder()
    const svc = await createTestService(ns, servers, 'tasks', { scope })
    svc.on(TaskUpdated, { handler: 'applyUpdate', concurrency: 16 }, rec.handler('a'))
    await svc.start()
    // The key is in the data here, and FerretDB (PostgreSQL jsonb) refuses a NUL in any stored
    // text (the publish fails with RecordError, nothing recorded): keys here go without one.
    const key = fc
      .oneof(
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.string({ minLength: 1_000, maxLength: 5_000 }),
        fc.constantFrom('', ' ', 'a.b', '*', '>', 'a b', '$k', 'é😀', '_k.3.x', '\r\nX: y'),
      )
      .filter((k) => !k.includes('\u0000'))
    let seq = 0
    try {
      const op = await svc.startOperation({ name: 'updateTasks' })
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(key, { minLength: 1, maxLength: 8 }), async (keys) => {
          const first = seq
          await Promise.all(keys.map((k) => op.publish(TaskUpdated, { key: k, seq: seq++ })))
          await eventually(() =>
            expect(
              rec.runs
                .filter((r) => r.seq >= first)
                .map((r) => r.seq)
                .sort((a, b) => a - b),
            ).toEqual(keys.map((_, i) => first + i)),
          )
          for (const run of rec.runs.filter((r) => r.seq >= first)) expect(keys).toContain(run.key)
        }),
        { numRuns: 15 },
      )
      const { partitions: seen } = await streamOrder(scope, seq)
      for (const { key: k, partition } of seen)
        expect(partition).toBe(partitionOf(partitionKeyOf(k), partitions))
    } finally {
      await svc.stop()
    }
  }, 120_000)

  it('a key function that throws or returns neither a string nor a number: a clear error, nothing recorded', async () => {
    const scope = 'badkey'
    const svc = await createTestService(ns, servers, 'tasks', { scope })
    const Odd = defineEvent({
      subject: 'Task.oddlyKeyed',
      version: 1,
      schema: z.object({ key: z.unknown() }),
      key: (data) => {
        if (data.key === 'throw') throw new Error('no key here')
        return data.key as string
      },
    })
    try {
      const op = await svc.startOperation({ name: 'updateTasks' })
      await expect(op.publish(Odd, { key: 'throw' })).rejects.toThrow(
        /Task.oddlyKeyed data is invalid: \(root\): its key function threw: no key here/,
      )
      await expect(op.publish(Odd, { key: { id: 1 } })).rejects.toBeInstanceOf(EventValidationError)
      await expect(op.publish(Odd, { key: Number.NaN })).rejects.toThrow(
        /its key must be a string or a finite number, got number/,
      )
      expect(await svc.store.outbox.countDocuments()).toBe(0)
      expect(await svc.store.events.countDocuments({ subject: 'Task.oddlyKeyed' })).toBe(0)
    } finally {
      await svc.stop()
    }
  })

  it('a group that handled a keyed event unordered is not ordered in place: the start says what to do', async () => {
    const scope = 'switch'
    const first = await createTestService(ns, servers, 'tasks', { scope })
    first.on(TaskUpdated, { handler: 'applyUpdate', ordered: false }, async () => {})
    await first.start()
    await first.stop()
    const second = await createTestService(ns, servers, 'tasks', { scope })
    second.on(TaskUpdated, { handler: 'applyUpdate' }, async () => {})
    try {
      await expect(second.start()).rejects.toThrow(
        /consumer group tasks.applyUpdate handled Task.updated unordered until now; .*Give the ordered handler a new name/,
      )
    } finally {
      await second.stop()
    }
    // Under a new name it is a new consumer group, ordered from the stream's start.
    const third = await createTestService(ns, servers, 'tasks', { scope })
    third.on(TaskUpdated, { handler: 'applyUpdateInOrder' }, async () => {})
    await third.start()
    expect(
      (await third.consumerGroups()).find((g) => g.durable === 'tasks_applyUpdateInOrder'),
    ).toMatchObject({ partitions: partitions })
    await third.stop()
  })
})
