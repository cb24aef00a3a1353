import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import type { Service } from '../service.ts'
import { operationChain } from '../store/operation-chain.ts'
import { createTestService } from '../testing/test-service.ts'

// Each run of a handler is kept with its start, end and outcome (the failure record for a failed
// one, the ledger entry for the one that finished): the operation's timeline reads them back.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'attempt timings')
const services: Service[] = []
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()))
  await ns.cleanup()
})

const ParcelShipped = defineEvent({
  subject: 'Parcel.shipped',
  version: 1,
  schema: z.object({ parcelId: z.string() }),
})

describe('attempt timings of an operation', () => {
  it('two failed runs and the one that finished, per consumer group, each with start and end', async () => {
    const svc = await createTestService(ns, servers, 'parcels', { scope: 'timings' })
    services.push(svc)
    svc.on(ParcelShipped, { handler: 'track' }, async (_event, ctx) => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      if (ctx.attempt < 3) throw new Error(`carrier API down (${ctx.attempt})`)
    })
    svc.on(ParcelShipped, { handler: 'notify' }, async () => undefined)
    await svc.start()
    const op = await svc.startOperation({ name: 'parcelShip' })
    const before = new Date().toISOString()
    const eventId = await op.publish(ParcelShipped, { parcelId: 'p1' })

    const attempts = await eventually(async () => {
      const chain = await operationChain(svc.store, op.id)
      const event = chain!.events.find((e) => e.id === eventId)!
      expect(event.handledBy.sort()).toEqual(['parcels.notify', 'parcels.track'])
      return event.attempts
    })
    const track = attempts.filter((a) => a.consumerGroup === 'parcels.track')
    expect(track.map((a) => [a.attempt, a.outcome, a.error])).toEqual([
      [1, 'failed', 'carrier API down (1)'],
      [2, 'failed', 'carrier API down (2)'],
      [3, 'handled', undefined],
    ])
    expect(attempts.filter((a) => a.consumerGroup === 'parcels.notify')).toMatchObject([
      { attempt: 1, outcome: 'handled' },
    ])
    for (const attempt of attempts) {
      expect(attempt.startedAt! >= before).toBe(true)
      expect(attempt.endedAt >= attempt.startedAt!).toBe(true)
    }
    // Each run took its 20 ms; a retry starts after the run before it ended.
    for (const run of track)
      expect(Date.parse(run.endedAt) - Date.parse(run.startedAt!)).toBeGreaterThanOrEqual(15)
    expect(track[1]!.startedAt! >= track[0]!.endedAt).toBe(true)
    expect(track[2]!.startedAt! >= track[1]!.endedAt).toBe(true)
  })
})
