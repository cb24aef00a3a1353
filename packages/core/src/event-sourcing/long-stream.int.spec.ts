import { createTestNamespace, getTestServers } from '@event-driven/testing'
import { MongoClient, type CommandStartedEvent } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigurationError } from '../errors.ts'
import type { Operation } from '../operation.ts'
import { streamSnapshotId } from '../store/keys.ts'
import { testArchiveOptions } from '../testing/archive.ts'
import {
  CounterAdded,
  counter,
  defineCounters,
  type CounterStream,
} from '../testing/counter-stream.ts'
import { createTestService } from '../testing/test-service.ts'

// Long streams. Appends stay flat as a stream grows because an append at a known position reads
// nothing: counted with the driver's command monitoring, not timed (the rates are
// `pnpm bench --only=event-store`'s); the read of the whole stream is timed and printed only.
// Folds start from snapshots; a stream's older events move to S3 and are read back from there.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'long stream')
const mongo = new MongoClient(servers.mongodbUrl, { monitorCommands: true })
await mongo.connect()
afterAll(async () => {
  await mongo.close()
})

/** The collection a command reads or writes, with its name: `insert outbox`. */
function describeCommand(event: CommandStartedEvent): string {
  const target = event.command[event.commandName] as unknown
  return `${event.commandName} ${typeof target === 'string' ? target : ''}`.trim()
}

describe('a stream of 10,000 events', () => {
  it('the last appends cost the same round trips as the first, none a read; the whole stream reads back in order', async () => {
    const service = await createTestService(ns, servers, 'counters', { mongodb: mongo })
    const counters = defineCounters(service)
    const stream = counters.name('long')
    const op = await service.startOperation({ name: 'fill' })
    const appendSize = 100
    const appends = 100
    const commandsOf: string[][] = []
    let position = 0
    for (let n = 0; n < appends; n++) {
      const commands: string[] = []
      const record = (event: CommandStartedEvent) => commands.push(describeCommand(event))
      mongo.on('commandStarted', record)
      position = (
        await op.appendToStream(
          stream,
          Array.from({ length: appendSize }, (_, i) => ({
            event: CounterAdded,
            data: { by: 1, n: n * appendSize + i },
          })),
          { expectedStreamPosition: position },
        )
      ).position
      mongo.off('commandStarted', record)
      commandsOf.push(commands)
    }
    expect(position).toBe(appends * appendSize)
    const onTheWay = commandsOf.flat()
    expect(onTheWay.filter((c) => c.startsWith('find') || c.startsWith('aggregate'))).toEqual([])
    // Hold, claim; the moves to `events` run behind the publish and may fall in either count.
    const claimsAndHolds = (commands: string[]) =>
      commands.filter((c) => c === 'insert outbox' || c === 'insert event_streams').length
    expect(commandsOf.slice(-10).map(claimsAndHolds)).toEqual(
      commandsOf.slice(0, 10).map(claimsAndHolds),
    )
    expect(Math.max(...commandsOf.map((c) => c.length))).toBeLessThanOrEqual(6)

    const started = performance.now()
    const read = await service.streams.readStream(stream)
    const readMs = performance.now() - started
    expect(read.events.map((e) => (e.data as { n: number }).n)).toEqual(
      Array.from({ length: position }, (_, i) => i),
    )
    const folded = await service.streams.aggregateStream(stream, counter)
    expect(folded.state).toEqual({ total: position, added: position })
    const tail = await service.streams.readStream(stream, { from: position - 9 })
    expect(tail.events.map((e) => e.position)).toEqual(
      Array.from({ length: 10 }, (_, i) => position - 9 + i),
    )
    console.log(
      `read a stream of ${position} events (${appends} appends) in ${readMs.toFixed(0)} ms`,
    )
    await service.stop()
  }, 180_000)
})

describe('snapshots and archived heads', () => {
  /** Appends `count` events, ten at a time, numbered from `from`. */
  const fill = async (op: Operation, stream: CounterStream, count: number, from = 0) => {
    for (let n = from; n < from + count; n += 10)
      await op.appendToStream(
        stream,
        Array.from({ length: 10 }, (_, i) => ({ event: CounterAdded, data: { by: 1, n: n + i } })),
      )
  }

  it('a fold starts from its snapshot and folds only the events after it; a new fold name ignores it', async () => {
    const service = await createTestService(ns, servers, 'counters', { scope: 'snapshots' })
    const counters = defineCounters(service)
    const stream = counters.name('snap')
    const op = await service.startOperation({ name: 'fill' })
    await fill(op, stream, 30)
    const snapshot = { name: 'totals-v1', every: 20 }
    expect(await service.streams.aggregateStream(stream, { ...counter, snapshot })).toMatchObject({
      state: { total: 30, added: 30 },
      position: 30,
    })
    const saved = await service.store.streamSnapshots.findOne({
      _id: streamSnapshotId(stream, 'totals-v1'),
    })
    expect(saved).toMatchObject({ position: 30, state: { total: 30, added: 30 } })
    // Proof that the next fold starts there: a (tampered) snapshot state shows through.
    await service.store.streamSnapshots.updateOne(
      { _id: saved!._id },
      { $set: { state: { total: 1_000, added: 30 } } },
    )
    await fill(op, stream, 10, 30)
    expect((await service.streams.aggregateStream(stream, { ...counter, snapshot })).state).toEqual(
      { total: 1_010, added: 40 },
    )
    expect(
      (
        await service.streams.aggregateStream(stream, {
          ...counter,
          snapshot: { name: 'totals-v2' },
        })
      ).state,
    ).toEqual({ total: 40, added: 40 })
    // handleCommand folds from it too.
    const result = await op.handleCommand(stream, {
      ...counter,
      snapshot,
      decide: () => [{ event: CounterAdded, data: { by: 1 } }],
    })
    expect(result).toMatchObject({ state: { total: 1_011, added: 41 }, position: 41 })
    await expect(
      service.streams.aggregateStream(stream, { ...counter, snapshot: { name: 'bad name' } }),
    ).rejects.toBeInstanceOf(RangeError)
    await service.stop()
  })

  it("a stream's older events move to S3: MongoDB keeps the claims and ids, reads fetch them back, appends go on", async () => {
    const bucket = `${ns.bucket}-streams`
    const service = await createTestService(ns, servers, 'counters', {
      scope: 'archive',
      archive: testArchiveOptions(servers.s3, bucket),
    })
    const counters = defineCounters(service)
    const stream = counters.name('archived')
    const op = await service.startOperation({ name: 'fill' })
    await fill(op, stream, 100)
    const before = await service.streams.readStream(stream)

    expect(await service.streams.archiveHead(stream, { keep: 25 })).toMatchObject({
      events: 70,
      key: expect.stringMatching(
        /^streams\/type=counter\/[0-9a-f]{64}\/1-70\.jsonl\.gz$/,
      ) as string,
    })
    // Nothing more to move until the stream grows; the archived documents are small.
    expect(await service.streams.archiveHead(stream, { keep: 25 })).toEqual({ events: 0 })
    const docs = await service.store.eventStreams.find({ stream }).sort({ to: 1 }).toArray()
    expect(docs.filter((d) => d.archive).map((d) => d.to)).toEqual([10, 20, 30, 40, 50, 60, 70])
    expect(docs[0]!.events[0]).toEqual({ id: before.events[0]!.id })

    // Whole, a range across the line, a fold: the same events as before.
    expect(await service.streams.readStream(stream)).toEqual(before)
    expect(
      (await service.streams.readStream(stream, { from: 65, to: 75 })).events.map(
        (e) => e.position,
      ),
    ).toEqual([65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75])
    expect((await service.streams.aggregateStream(stream, counter)).state).toEqual({
      total: 100,
      added: 100,
    })
    // The archived positions stay claimed: an append there is refused; at the end it lands.
    await expect(
      op.appendToStream(stream, [{ event: CounterAdded, data: { by: 1 } }], {
        expectedStreamPosition: 50,
      }),
    ).rejects.toMatchObject({ name: 'ConcurrencyError', actualPosition: 100 })
    await op.appendToStream(stream, [{ event: CounterAdded, data: { by: 1 } }], {
      expectedStreamPosition: 100,
    })

    // Without the archive, reading archived positions says what is missing.
    const noArchive = await createTestService(ns, servers, 'counters', { scope: 'archive' })
    defineCounters(noArchive)
    await expect(noArchive.streams.readStream(stream)).rejects.toBeInstanceOf(ConfigurationError)
    expect((await noArchive.streams.readStream(stream, { from: 71 })).events).toHaveLength(31)
    await expect(noArchive.streams.archiveHead(stream)).rejects.toBeInstanceOf(ConfigurationError)
    await noArchive.stop()
    await service.stop()
  })
})
