import { createTestNamespace, getTestServers } from '@event-driven/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcurrencyError } from '../errors.ts'
import type { Operation } from '../operation.ts'
import type { Service } from '../service.ts'
import { CounterAdded, counter, defineCounters } from '../testing/counter-stream.ts'
import { createTestService } from '../testing/test-service.ts'

// Optimistic concurrency where it is hardest: 20 writers, each a service with its own NATS and
// MongoDB connections, released together on one stream position. On FerretDB two concurrent
// updates of one document can both "win"; an insert under one `_id` cannot, and an append is one.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'stream contention')
const writerCount = 20

interface Writer {
  service: Service
  op: Operation
}
let writers: Writer[] = []
let counters: ReturnType<typeof defineCounters>

beforeAll(async () => {
  writers = await Promise.all(
    Array.from({ length: writerCount }, async (_, n) => {
      const service = await createTestService(ns, servers, 'counters', { scope: 'race' })
      counters = defineCounters(service)
      return { service, op: await service.startOperation({ name: `writer${n}` }) }
    }),
  )
}, 60_000)
afterAll(async () => {
  await Promise.all(writers.map((w) => w.service.stop()))
})

/** Runs every writer's step at once: all are waiting on one promise before any starts. */
async function together<T>(step: (writer: Writer, n: number) => Promise<T>) {
  let release!: () => void
  const barrier = new Promise<void>((resolve) => (release = resolve))
  const runs = writers.map(async (writer, n) => {
    await barrier
    return step(writer, n)
  })
  release()
  return Promise.allSettled(runs)
}

describe('20 writers on one stream', () => {
  it('each of 20 rounds has exactly one winner; the others get the expected and actual positions', async () => {
    const stream = counters.name('rounds')
    let position = 0
    for (let round = 1; round <= 20; round++) {
      // Appends of 1 to 3 events, so a winner moves the stream by more than one.
      const results = await together(({ op }, n) =>
        op.appendToStream(
          stream,
          Array.from({ length: 1 + (n % 3) }, () => ({
            event: CounterAdded,
            data: { by: 1, writer: `w${n}`, n: round },
          })),
          { expectedStreamPosition: position },
        ),
      )
      const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))
      expect(won, `round ${round}`).toHaveLength(1)
      for (const error of lost) {
        expect(error).toBeInstanceOf(ConcurrencyError)
        expect(error).toMatchObject({
          expectedPosition: position,
          actualPosition: won[0]!.position,
        })
      }
      position = won[0]!.position
    }
    // Every event acknowledged is stored, in the order of the rounds, and nothing else.
    const read = await writers[0]!.service.streams.readStream(stream)
    expect(read.position).toBe(position)
    expect(read.events.map((e) => e.position)).toEqual(
      Array.from({ length: position }, (_, i) => i + 1),
    )
    const rounds = read.events.map((e) => (e.data as { n: number }).n)
    expect(rounds).toEqual([...rounds].sort((a, b) => a - b))
    expect(new Set(rounds).size).toBe(20)
  }, 120_000)

  it('with retry on conflict, every command lands: all events, in order, no gaps, no duplicates, state equals the fold', async () => {
    const stream = counters.name('retries')
    const perWriter = 3
    const results = await together(async ({ op }, n) => {
      const states = []
      for (let k = 1; k <= perWriter; k++)
        states.push(
          await op.handleCommand(
            stream,
            {
              ...counter,
              decide: () => [{ event: CounterAdded, data: { by: 1, writer: `w${n}`, n: k } }],
            },
            { maxAttempts: 100 },
          ),
        )
      return states
    })
    expect(results.filter((r) => r.status === 'rejected')).toEqual([])
    const read = await writers[0]!.service.streams.readStream(stream)
    const total = writerCount * perWriter
    expect(read.events.map((e) => e.position)).toEqual(
      Array.from({ length: total }, (_, i) => i + 1),
    )
    const written = read.events.map((e) => {
      const data = e.data as { writer: string; n: number }
      return `${data.writer}#${data.n}`
    })
    expect(new Set(written).size).toBe(total)
    // Each writer's commands are in its own order.
    for (let n = 0; n < writerCount; n++) {
      const mine = written.filter((w) => w.startsWith(`w${n}#`))
      expect(mine).toEqual(Array.from({ length: perWriter }, (_, k) => `w${n}#${k + 1}`))
    }
    // The state each command returned is the fold up to its position.
    for (const result of results)
      if (result.status === 'fulfilled')
        for (const { state, position } of result.value)
          expect(state).toEqual({ total: position, added: position })
    expect(await writers[0]!.service.streams.aggregateStream(stream, { ...counter })).toMatchObject(
      { state: { total, added: total }, position: total },
    )
  }, 300_000)
})
