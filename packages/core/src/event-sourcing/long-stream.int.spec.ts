import { createTestNamespace, getTestServers } from '@event-driven/testing'
import { MongoClient, type CommandStartedEvent } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'
import { CounterAdded, counter, defineCounters } from '../testing/counter-stream.ts'
import { createTestService } from '../testing/test-service.ts'

// A stream of 10,000 events. Appends stay flat as it grows because an append at a known position
// reads nothing: counted with the driver's command monitoring, not timed (the rates are
// `pnpm bench --only=event-store`'s). The read of the whole stream is timed and printed only.
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
