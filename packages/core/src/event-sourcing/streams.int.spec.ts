import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import {
  ConcurrencyError,
  ConfigurationError,
  EventValidationError,
  StreamNameError,
} from '../errors.ts'
import type { Service } from '../service.ts'
import { CounterAdded, CounterReset, counter, defineCounters } from '../testing/counter-stream.ts'
import { createTestService } from '../testing/test-service.ts'
import { maxEventsPerAppend } from './append.ts'

// Event-sourced streams on the real servers: appends at the end of a stream with optimistic
// concurrency, reads in order (whole or a range), folds, upcasting on read, and the events going
// out through the pipeline with their chain's ids.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'event streams')

let service: Service
let counters: ReturnType<typeof defineCounters>
const received: { id: string; subject: string; operationId: string; parentId: string }[] = []

beforeAll(async () => {
  service = await createTestService(ns, servers, 'counters', { scope: 'main' })
  counters = defineCounters(service)
  service.on(CounterAdded, { handler: 'audit' }, async (event) => {
    received.push({ ...event })
  })
  await service.start()
})
afterAll(async () => {
  await service.stop()
})

const added = (by: number, n?: number) => ({
  event: CounterAdded,
  data: { by, ...(n === undefined ? {} : { n }) },
})

describe('appendToStream and readStream', () => {
  it('appends at the end, reads its writes in order, a range of them, and folds them', async () => {
    const op = await service.startOperation({ name: 'count' })
    const stream = counters.name('read-your-writes')
    const first = await op.appendToStream(stream, [added(1), added(2), added(3)], {
      expectedStreamPosition: 'no_stream',
    })
    expect(first.position).toBe(3)
    expect(first.events.map((e) => e.position)).toEqual([1, 2, 3])
    // Read right after the append: it is there.
    const read = await service.streams.readStream(stream)
    expect(read).toMatchObject({ position: 3, exists: true })
    expect(read.events.map((e) => [e.position, e.data])).toEqual([
      [1, { by: 1 }],
      [2, { by: 2 }],
      [3, { by: 3 }],
    ])
    const second = await op.appendToStream(stream, [added(4), { event: CounterReset, data: {} }], {
      expectedStreamPosition: first.position,
    })
    expect(second.position).toBe(5)
    await op.appendToStream(stream, [added(10)], { expectedStreamPosition: 'stream_exists' })
    await op.appendToStream(stream, [added(20)]) // any

    const range = await service.streams.readStream(stream, { from: 3, to: 5 })
    expect(range.events.map((e) => e.position)).toEqual([3, 4, 5])
    expect(range.position).toBe(7)
    expect(
      (await service.streams.readStream(stream, { from: 6 })).events.map((e) => e.data),
    ).toEqual([{ by: 10 }, { by: 20 }])
    expect(await service.streams.aggregateStream(stream, { ...counter })).toEqual({
      state: { total: 30, added: 6 },
      position: 7,
      exists: true,
    })
    expect(
      await service.streams.aggregateStream(stream, { ...counter, read: { to: 4 } }),
    ).toMatchObject({ state: { total: 10, added: 4 }, position: 4 })

    // Every event has its operation and ids, and went out through the pipeline.
    const all = (await service.streams.readStream(stream)).events
    expect(new Set(all.map((e) => e.id)).size).toBe(7)
    expect(all.every((e) => e.operationId === op.id && e.parentId === op.id)).toBe(true)
    await eventually(() =>
      expect(
        received.filter((r) => all.some((e) => e.id === r.id)).map((r) => r.operationId),
      ).toEqual(Array(6).fill(op.id)),
    )
    await eventually(async () =>
      expect(await service.store.events.countDocuments({ operationId: op.id })).toBe(7),
    )
    expect(await service.store.outbox.countDocuments({ operationId: op.id })).toBe(0)
  })

  it('a stream with no events: position 0, not there', async () => {
    expect(await service.streams.readStream(counters.name('never'))).toEqual({
      events: [],
      position: 0,
      exists: false,
    })
    expect(await service.streams.aggregateStream(counters.name('never'), counter)).toEqual({
      state: { total: 0, added: 0 },
      position: 0,
      exists: false,
    })
  })

  it('two appends decided on the same position: one lands, the other gets both positions', async () => {
    const op = await service.startOperation({ name: 'count' })
    const stream = counters.name('same-position')
    await op.appendToStream(stream, [added(1)], { expectedStreamPosition: 'no_stream' })
    const results = await Promise.allSettled([
      op.appendToStream(stream, [added(2), added(3)], { expectedStreamPosition: 1 }),
      op.appendToStream(stream, [added(5)], { expectedStreamPosition: 1 }),
    ])
    const won = results.filter((r) => r.status === 'fulfilled')
    const lost = results.filter((r) => r.status === 'rejected')
    expect(won).toHaveLength(1)
    expect(lost).toHaveLength(1)
    const error = lost[0]!.reason as ConcurrencyError
    expect(error).toBeInstanceOf(ConcurrencyError)
    expect(error).toMatchObject({
      stream,
      expectedPosition: 1,
      actualPosition: won[0]!.value.position,
    })
    const read = await service.streams.readStream(stream)
    expect(read.position).toBe(won[0]!.value.position)
    // Nothing of the loser is kept or published.
    const loserEvents = read.events.length === 3 ? [{ by: 5 }] : [{ by: 2 }, { by: 3 }]
    expect(read.events.map((e) => e.data)).not.toContainEqual(loserEvents[0])
    expect(await service.store.outbox.countDocuments({ 'change.key': 'same-position' })).toBe(0)
  })

  it('refuses an expectation the stream does not meet, with the actual position', async () => {
    const op = await service.startOperation({ name: 'count' })
    const stream = counters.name('expectations')
    await expect(
      op.appendToStream(stream, [added(1)], { expectedStreamPosition: 'stream_exists' }),
    ).rejects.toMatchObject({ expectedPosition: 'stream_exists', actualPosition: 0 })
    await op.appendToStream(stream, [added(1), added(1), added(1)], {
      expectedStreamPosition: 'no_stream',
    })
    await expect(
      op.appendToStream(stream, [added(1)], { expectedStreamPosition: 'no_stream' }),
    ).rejects.toMatchObject({ expectedPosition: 'no_stream', actualPosition: 3 })
    // Past the end would leave a gap; inside the first append would fork it.
    for (const position of [2, 4, 100])
      await expect(
        op.appendToStream(stream, [added(1)], { expectedStreamPosition: position }),
      ).rejects.toMatchObject({
        name: 'ConcurrencyError',
        expectedPosition: position,
        actualPosition: 3,
      })
    for (const position of [-1, 1.5, Number.NaN, '3' as never])
      await expect(
        op.appendToStream(stream, [added(1)], { expectedStreamPosition: position }),
      ).rejects.toBeInstanceOf(RangeError)
    expect((await service.streams.readStream(stream)).position).toBe(3)
  })

  it('whatever expected position a caller sends, an append lands exactly when the stream is there, and the stream stays gapless', async () => {
    const op = await service.startOperation({ name: 'count' })
    const expectation = fc.oneof(
      fc.integer({ min: -2, max: 12 }),
      fc.constantFrom('any' as const, 'no_stream' as const, 'stream_exists' as const),
    )
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ size: fc.integer({ min: 1, max: 3 }), expected: expectation }), {
          minLength: 1,
          maxLength: 8,
        }),
        async (commands) => {
          const stream = counters.name(`model-${run++}`)
          let head = 0
          for (const { size, expected } of commands) {
            const lands =
              expected === 'any' ||
              (expected === 'no_stream' && head === 0) ||
              (expected === 'stream_exists' && head > 0) ||
              expected === head
            const appending = op.appendToStream(
              stream,
              Array.from({ length: size }, () => added(1)),
              { expectedStreamPosition: expected },
            )
            if (lands) {
              head += size
              expect((await appending).position).toBe(head)
            } else if (typeof expected === 'number' && expected < 0)
              await expect(appending).rejects.toBeInstanceOf(RangeError)
            else
              await expect(appending).rejects.toMatchObject({
                name: 'ConcurrencyError',
                actualPosition: head,
              })
          }
          const read = await service.streams.readStream(stream)
          expect(read.events.map((e) => e.position)).toEqual(
            Array.from({ length: head }, (_, i) => i + 1),
          )
        },
      ),
      { numRuns: 25 },
    )
  })

  it('refuses bad appends whole, holding nothing: invalid data, foreign events, too many, none', async () => {
    const op = await service.startOperation({ name: 'count' })
    const stream = counters.name('bad-input')
    const Other = defineEvent({ subject: 'Other.happened', version: 1, schema: z.object({}) })
    await expect(
      op.appendToStream(stream, [added(1), { event: CounterAdded, data: { by: 'x' as never } }]),
    ).rejects.toBeInstanceOf(EventValidationError)
    await expect(
      op.appendToStream(stream, [{ event: Other as never, data: {} }]),
    ).rejects.toBeInstanceOf(ConfigurationError)
    await expect(
      op.appendToStream(
        stream,
        Array.from({ length: maxEventsPerAppend + 1 }, () => added(1)),
      ),
    ).rejects.toBeInstanceOf(RangeError)
    await expect(op.appendToStream(stream, [])).rejects.toBeInstanceOf(RangeError)
    expect((await service.streams.readStream(stream)).exists).toBe(false)
    expect(await service.store.outbox.countDocuments({ operationId: op.id })).toBe(0)
  })

  it('stream names are <type>:<id>: any id a caller sends is appended and read back, or refused with StreamNameError', async () => {
    const op = await service.startOperation({ name: 'count' })
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 220, unit: 'binary' }), async (id) => {
        let name: string
        try {
          name = counters.name(id)
        } catch (error) {
          expect(error).toBeInstanceOf(StreamNameError)
          return
        }
        const before = (await service.streams.readStream(name)).position
        const { position } = await op.appendToStream(name, [added(1)], {
          expectedStreamPosition: before,
        })
        const read = await service.streams.readStream(name)
        expect(read.position).toBe(position)
        expect(read.events.at(-1)?.position).toBe(position)
      }),
      { numRuns: 40 },
    )
    for (const name of ['', 'counter', ':x', 'Counter:x', 'counter:', 'unknown:x', 7, null])
      await expect(service.streams.readStream(name as never)).rejects.toBeInstanceOf(
        StreamNameError,
      )
  })
})

describe('versions', () => {
  it('an event stored as v1 is read as v2 through its upcaster', async () => {
    const NoteV1 = defineEvent({
      subject: 'Note.written',
      version: 1,
      schema: z.object({ text: z.string() }),
    })
    const NoteV2 = defineEvent({
      subject: 'Note.written',
      version: 2,
      schema: z.object({ text: z.string(), words: z.number() }),
      upcasters: { 1: (v1: { text: string }) => ({ ...v1, words: v1.text.split(' ').length }) },
    })
    const older = await createTestService(ns, servers, 'notes', { scope: 'versions' })
    const newer = await createTestService(ns, servers, 'notes', { scope: 'versions' })
    try {
      const oldNotes = older.streams.define({ type: 'note', events: [NoteV1] })
      newer.streams.define({ type: 'note', events: [NoteV2] })
      const op = await older.startOperation({ name: 'write' })
      await op.appendToStream(oldNotes.name('n1'), [
        { event: NoteV1, data: { text: 'three small words' } },
      ])
      const { state } = await newer.streams.aggregateStream('note:n1', {
        initialState: () => [] as unknown[],
        evolve: (notes, event) => [...notes, [event.version, event.storedVersion, event.data]],
      })
      expect(state).toEqual([[2, 1, { text: 'three small words', words: 3 }]])
    } finally {
      await older.stop()
      await newer.stop()
    }
  })
})

describe('handleCommand', () => {
  it('reads, decides, appends at the position read; retries a conflict; returns the new state', async () => {
    const op = await service.startOperation({ name: 'count' })
    const stream = counters.name('command')
    const result = await op.handleCommand(stream, {
      ...counter,
      decide: (state) => [added(state.total + 1)],
    })
    expect(result).toMatchObject({ state: { total: 1, added: 1 }, position: 1 })
    expect(result.events.map((e) => e.data)).toEqual([{ by: 1 }])

    // Another writer appends between this command's read and its append: it decides again.
    let decisions = 0
    const raced = await op.handleCommand(stream, {
      ...counter,
      decide: async (state) => {
        decisions++
        if (decisions === 1) await op.appendToStream(stream, [added(100)])
        return [added(state.total)]
      },
    })
    expect(decisions).toBe(2)
    expect(raced).toMatchObject({ state: { total: 202, added: 3 }, position: 3 })

    // Nothing to do: nothing appended.
    expect(await op.handleCommand(stream, { ...counter, decide: () => [] })).toMatchObject({
      events: [],
      position: 3,
    })
    // A refusal is the decider's own error; a conflict on every attempt gives up.
    await expect(
      op.handleCommand(stream, {
        ...counter,
        decide: () => {
          throw new Error('closed')
        },
      }),
    ).rejects.toThrow('closed')
    await expect(
      op.handleCommand(
        stream,
        {
          ...counter,
          decide: async () => {
            await op.appendToStream(stream, [added(0)])
            return [added(1)]
          },
        },
        { maxAttempts: 3 },
      ),
    ).rejects.toMatchObject({ name: 'ConcurrencyError', expectedPosition: 5, actualPosition: 6 })
    expect((await service.streams.readStream(stream)).events).toHaveLength(6)
  })

  it("a handler's command appends once though its run is redelivered", async () => {
    const handlerService = await createTestService(ns, servers, 'tally', { scope: 'handler' })
    const tallies = handlerService.streams.define({ type: 'tally', events: [CounterAdded] })
    let runs = 0
    handlerService.on(CounterReset, { handler: 'tally' }, async (_event, ctx) => {
      runs++
      await ctx.handleCommand(tallies.name('t1'), {
        ...counter,
        decide: () => [added(1), added(2)],
      })
      if (runs === 1) throw new Error('fails after its append, before the ledger')
    })
    await handlerService.start()
    try {
      const op = await handlerService.startOperation({ name: 'reset' })
      const resetId = await op.publish(CounterReset, {})
      await eventually(async () => {
        expect(runs).toBe(2)
        expect(
          await handlerService.store.processed.countDocuments({ _id: `${resetId}/tally.tally` }),
        ).toBe(1)
      })
      const read = await handlerService.streams.readStream(tallies.name('t1'))
      expect(read.events.map((e) => [e.data, e.parentId])).toEqual([
        [{ by: 1 }, resetId],
        [{ by: 2 }, resetId],
      ])
    } finally {
      await handlerService.stop()
    }
  })

  it("a handler's appends to several streams, its decisions changing between runs: each stream gets its events once, with ids of its own", async () => {
    const handlerService = await createTestService(ns, servers, 'spread', { scope: 'many' })
    const tallies = handlerService.streams.define({ type: 'tally', events: [CounterAdded] })
    let runs = 0
    handlerService.on(CounterReset, { handler: 'spread' }, async (_event, ctx) => {
      runs++
      // Decides something only while its stream is empty: nothing on the second run.
      await ctx.handleCommand(tallies.name('a'), {
        ...counter,
        decide: (state) => (state.added === 0 ? [added(1)] : []),
      })
      await ctx.handleCommand(tallies.name('b'), { ...counter, decide: () => [added(2)] })
      await ctx.appendToStream(tallies.name('c'), [added(3)])
      if (runs === 1) throw new Error('fails after its appends, before the ledger')
    })
    await handlerService.start()
    try {
      const op = await handlerService.startOperation({ name: 'reset' })
      const resetId = await op.publish(CounterReset, {})
      await eventually(async () =>
        expect(
          await handlerService.store.processed.countDocuments({ _id: `${resetId}/spread.spread` }),
        ).toBe(1),
      )
      expect(runs).toBe(2)
      const ids: string[] = []
      for (const [id, by] of [
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ] as const) {
        const { events } = await handlerService.streams.readStream(tallies.name(id))
        expect(events.map((e) => e.data)).toEqual([{ by }])
        ids.push(events[0]!.id)
      }
      expect(new Set(ids).size).toBe(3)
      await eventually(async () =>
        expect(await handlerService.store.events.countDocuments({ parentId: resetId })).toBe(3),
      )
    } finally {
      await handlerService.stop()
    }
  })
})
