import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { MongoClient, type CommandStartedEvent } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'
import { TaskCreated } from './testing/task-events.ts'
import { createTestService } from './testing/test-service.ts'

// Round trips are counted with the driver's command monitoring, not timed: the count is what
// batching promises, and it does not depend on the machine's speed.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'round trips')
const mongo = new MongoClient(servers.mongodbUrl, { monitorCommands: true })
await mongo.connect()
afterAll(async () => {
  await mongo.close()
  await ns.cleanup()
})

describe('MongoDB round trips per event', () => {
  it('at load, publishing and handling an event costs well under one round trip each', async () => {
    const svc = await createTestService(ns, servers, 'tasks', { mongodb: mongo })
    let handled = 0
    svc.on(TaskCreated, { handler: 'count', concurrency: 32 }, async () => {
      handled += 1
    })
    await svc.start()
    const op = await svc.startOperation({ name: 'createTasks' })

    const commands: string[] = []
    const count = (event: CommandStartedEvent) => commands.push(event.commandName)
    mongo.on('commandStarted', count)
    const events = 500
    await Promise.all(Array.from({ length: events }, (_, n) => op.publish(TaskCreated, { n })))
    const publishTrips = commands.length
    await eventually(() => expect(handled).toBe(events), { timeoutMs: 30_000 })
    await eventually(async () => expect(await svc.store.processed.countDocuments()).toBe(events))
    const totalTrips = commands.length - 1 // less the countDocuments of the check itself
    mongo.off('commandStarted', count)
    await svc.stop()

    const perEvent = { publish: publishTrips / events, endToEnd: totalTrips / events }
    console.log(
      `round trips per event: publish ${perEvent.publish.toFixed(3)}, end to end ${perEvent.endToEnd.toFixed(3)}`,
      countBy(commands),
    )
    expect(perEvent.publish).toBeLessThan(0.5)
    expect(perEvent.endToEnd).toBeLessThan(1)
  })

  it('concurrent operations share their writes: record, end claim and status, each grouped', async () => {
    const svc = await createTestService(ns, servers, 'orders', { mongodb: mongo })
    await svc.start()
    const commands: string[] = []
    const count = (event: CommandStartedEvent) => commands.push(event.commandName)
    mongo.on('commandStarted', count)
    const operations = 100
    const ids = await Promise.all(
      Array.from({ length: operations }, async (_, n) => {
        const op = await svc.startOperation({ name: 'importOrder', input: { n } })
        // The operation is recorded before its command goes on: the caller waited for its insert.
        expect(await svc.store.operations.findOne({ _id: op.id })).toMatchObject({
          status: 'started',
        })
        await (n % 10 === 0 ? op.fail('no stock') : op.complete())
        return op.id
      }),
    )
    mongo.off('commandStarted', count)
    const writes = commands.filter((c) => c !== 'find').length
    console.log(`operation writes for ${operations} operations: ${writes}`, countBy(commands))
    // One at a time this is 3 writes each (record, end claim, status): 300.
    expect(writes).toBeLessThan(operations)
    const stored = await svc.store.operations.find({ _id: { $in: ids } }).toArray()
    expect(stored.filter((o) => o.status === 'completed')).toHaveLength(90)
    expect(stored.filter((o) => o.status === 'failed' && o.error === 'no stock')).toHaveLength(10)
    expect(stored.every((o) => o.endedAt instanceof Date)).toBe(true)

    // Two commands racing under one id in one group: one is recorded, the other refused.
    const [a, b] = await Promise.allSettled([
      svc.startOperation({ name: 'pay', id: 'payment-42' }),
      svc.startOperation({ name: 'pay', id: 'payment-42' }),
    ])
    expect([a.status, b.status].sort()).toEqual(['fulfilled', 'rejected'])
    const refused = [a, b].find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect(refused.reason).toMatchObject({ code: 'operation-id-taken' })
    await svc.stop()
  })
})

function countBy(names: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1
  return counts
}
