import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { afterAll, describe, expect, it } from 'vitest'
import type { Service } from '../service.ts'
import { streamAppendId } from '../store/keys.ts'
import { CounterAdded, defineCounters } from '../testing/counter-stream.ts'
import { startServiceProcess, taskServiceEnv } from '../testing/process.ts'
import { createTestService } from '../testing/test-service.ts'

// A process killed in the middle of appends: each append is in the stream whole or not at all,
// and exactly the events in the stream are published, once each (by the relay of another
// instance for what the killed one left).
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'stream crashes')
const started: Service[] = []
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()))
})

/** A started `counters` instance (its relay finishes what a killed one left) that counts deliveries. */
async function recoveringInstance(scope: string) {
  const service = await createTestService(ns, servers, 'counters', { scope })
  started.push(service)
  const counters = defineCounters(service)
  const deliveries = new Map<string, number>()
  service.on(CounterAdded, { handler: 'audit' }, async (event) => {
    deliveries.set(event.id, (deliveries.get(event.id) ?? 0) + 1)
  })
  await service.start()
  return { service, counters, deliveries }
}

describe('a writer killed with SIGKILL', () => {
  it('mid-way through 50-event appends: each append is whole or absent, and the stream is published exactly', async () => {
    const scope = 'midway'
    const env = { ...taskServiceEnv(ns, servers, scope), STREAM_ID: 'big', MODE: 'loop' }
    const writer = startServiceProcess('stream-writer.ts', env)
    const { service, counters, deliveries } = await recoveringInstance(scope)
    await writer.ready
    // Let it get some appends in, then kill it wherever it is.
    await eventually(async () =>
      expect(
        await service.store.eventStreams.countDocuments({ stream: 'counter:big' }),
      ).toBeGreaterThanOrEqual(3),
    )
    writer.child.kill('SIGKILL')
    expect(await writer.exited).toBe('SIGKILL')

    // What it held in full but had not claimed, reconciliation claims; what it held in part
    // (or lost to no one here) is dropped; everything claimed is published.
    await eventually(
      async () =>
        expect(await service.store.outbox.countDocuments({ 'change.key': 'big' })).toBe(0),
      { timeoutMs: 30_000 },
    )
    const appends = await service.store.eventStreams.find({ stream: 'counter:big' }).toArray()
    for (const append of appends) {
      expect(append._id).toBe(streamAppendId('counter:big', append.from - 1))
      expect(append.events).toHaveLength(50)
      expect(append.to - append.from + 1).toBe(50)
    }
    const read = await service.streams.readStream(counters.name('big'))
    expect(read.events.map((e) => (e.data as { n: number }).n)).toEqual(
      Array.from({ length: read.position }, (_, i) => i),
    )
    // Every event of the stream is delivered once, and nothing else is.
    const inStream = new Set(read.events.map((e) => e.id))
    await eventually(() => expect(deliveries.size).toBe(inStream.size), { timeoutMs: 30_000 })
    expect([...deliveries.keys()].filter((id) => !inStream.has(id))).toEqual([])
    expect([...deliveries.values()].filter((n) => n !== 1)).toEqual([])
    expect(await service.store.events.countDocuments({ 'change.key': 'big' })).toBe(inStream.size)
  }, 90_000)

  it('after its claim and before its publish: the relay publishes the append once', async () => {
    const scope = 'claimed'
    const env = {
      ...taskServiceEnv(ns, servers, scope),
      STREAM_ID: 'unpublished',
      MODE: 'crash-after-claimed',
      APPEND_SIZE: '5',
    }
    const { service, counters, deliveries } = await recoveringInstance(scope)
    const writer = startServiceProcess('stream-writer.ts', env)
    expect(await writer.exited).toBe('SIGKILL')
    // Appended, not published: the stream has it, JetStream does not yet.
    const read = await service.streams.readStream(counters.name('unpublished'))
    expect(read.position).toBe(5)
    await eventually(
      async () => {
        expect([...deliveries.keys()].sort()).toEqual(read.events.map((e) => e.id).sort())
        expect(await service.store.outbox.countDocuments({ 'change.key': 'unpublished' })).toBe(0)
      },
      { timeoutMs: 30_000 },
    )
    expect([...deliveries.values()]).toEqual([1, 1, 1, 1, 1])
    const stored = await service.store.events
      .find({ 'change.key': 'unpublished' }, { sort: { 'change.position': 1 } })
      .toArray()
    expect(stored.map((e) => [e.change?.position, e.operationId])).toEqual(
      read.events.map((e) => [e.position, e.operationId]),
    )
  }, 60_000)

  it('after holding its events, before the claim: a whole append is claimed and published, a partial one dropped', async () => {
    const scope = 'held'
    const { service, counters, deliveries } = await recoveringInstance(scope)
    const crash = async (id: string) => {
      const writer = startServiceProcess('stream-writer.ts', {
        ...taskServiceEnv(ns, servers, scope),
        STREAM_ID: id,
        MODE: 'crash-after-held',
        APPEND_SIZE: '3',
      })
      expect(await writer.exited).toBe('SIGKILL')
    }
    await crash('whole')
    await crash('partial')
    // As if the hold of the second had failed part-way (its writer then claims nothing).
    await service.store.outbox.deleteOne({ 'change.key': 'partial', 'change.position': 2 })

    await eventually(
      async () => {
        expect(
          await service.store.outbox.countDocuments({
            'change.key': { $in: ['whole', 'partial'] },
          }),
        ).toBe(0)
        expect(deliveries.size).toBe(3)
      },
      { timeoutMs: 30_000 },
    )
    const whole = await service.streams.readStream(counters.name('whole'))
    expect(whole.events.map((e) => e.id).sort()).toEqual([...deliveries.keys()].sort())
    expect(whole.position).toBe(3)
    expect((await service.streams.readStream(counters.name('partial'))).exists).toBe(false)
  }, 60_000)
})
