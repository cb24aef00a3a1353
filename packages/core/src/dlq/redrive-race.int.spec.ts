import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import type { Service } from '../service.ts'
import type { DlqActionResult } from './manage.ts'
import { createTestService } from '../testing/test-service.ts'

// DLQ state under any interleaving: two redrives and a discard race on each of 100 entries,
// released together, while every redriven message fails again at once. Each entry ends in the
// state of the one action that won, with that action in its history; each redrive that won
// opens exactly one new entry for the next cycle, linked back; nothing is left half-way.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'redrive race')

const LabelPrinted = defineEvent({
  subject: 'Label.printed',
  version: 1,
  schema: z.object({ n: z.number() }),
})

let service: Service
beforeAll(async () => {
  service = await createTestService(ns, servers, 'labels', {
    retry: { maxFailures: 1, baseDelayMs: 20, maxDelayMs: 50 }, // the first failure gives up
  })
  service.on(LabelPrinted, { handler: 'ship', concurrency: 32 }, async () => {
    throw new Error('the carrier API is down')
  })
  await service.start()
})
afterAll(async () => {
  await service.stop()
  await ns.cleanup()
})

describe('DLQ actions racing an immediate re-failure', () => {
  it('100 rounds released together: every entry ends in one correct state with its history', async () => {
    const rounds = 100
    const op = await service.startOperation({ name: 'labelsPrint' })
    await Promise.all(Array.from({ length: rounds }, (_, n) => op.publish(LabelPrinted, { n })))
    const first = await eventually(
      async () => {
        const { entries } = await service.dlq.list({ status: 'open' }, { limit: 500 })
        expect(entries).toHaveLength(rounds)
        return entries.map((e) => e._id)
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    )

    let release!: () => void
    const barrier = new Promise<void>((resolve) => (release = resolve))
    const races = first.map(async (id) => {
      await barrier
      return Promise.all([
        service.dlq.redrive(id, 'ana'),
        service.dlq.redrive(id, 'bo'),
        service.dlq.discard(id, 'cy', 'the label is void'),
      ])
    })
    release()
    const outcomes = await Promise.all(races)

    const redriven: string[] = []
    for (const [i, results] of outcomes.entries()) {
      const won = results.filter((r): r is Extract<DlqActionResult, { ok: true }> => r.ok)
      expect(won, `entry ${first[i]}`).toHaveLength(1)
      for (const lost of results)
        if (!lost.ok) expect(['not-open', 'lost-race']).toContain(lost.code)
      const winner = won[0]!.entry
      const stored = (await service.dlq.get(first[i]!))!
      expect(stored.status).toBe(winner.status)
      expect(stored.history).toEqual(winner.history)
      expect(stored.history).toHaveLength(1)
      if (winner.status === 'redriven') redriven.push(first[i]!)
    }
    expect(redriven.length).toBeGreaterThan(0)

    // Each redrive that won failed again at once: one new open entry per redrive, linked back.
    await eventually(
      async () => {
        const { entries, next } = await service.dlq.list({ status: 'open' }, { limit: 500 })
        expect(next).toBeNull()
        expect(entries).toHaveLength(redriven.length)
        expect(entries.map((e) => e.redriveOf).sort()).toEqual([...redriven].sort())
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    )
    expect(await service.store.dlq.countDocuments()).toBe(rounds + redriven.length)
    const sample = (await service.dlq.get(redriven[0]!))!
    expect(sample.cycles.map((c) => c.status)).toEqual(['redriven', 'open'])
    expect(sample.cycles[0]!.action).toMatchObject({ action: 'redrive' })
  }, 120_000)

  it('an action whose caller died after its claim is finished by the next caller', async () => {
    const op = await service.startOperation({ name: 'labelsPrint' })
    const eventId = await op.publish(LabelPrinted, { n: 1_000 })
    const { entries } = await eventually(async () => {
      const found = await service.dlq.list({ eventId })
      expect(found.entries).toHaveLength(1)
      return found
    })
    const id = entries[0]!._id
    // The claim of a redrive whose process stopped before it published or recorded anything.
    await service.store.db
      .collection('dlq_actions')
      .insertOne({ _id: id as never, action: 'redrive', by: 'gone', at: new Date() })

    expect(await service.dlq.discard(id, 'ana', 'too late')).toMatchObject({
      ok: false,
      code: 'lost-race',
      reason: expect.stringMatching(/^the entry is redriven \(redrive by gone at /) as string,
    })
    expect(await service.dlq.get(id)).toMatchObject({
      status: 'redriven',
      history: [{ action: 'redrive', by: 'gone' }],
    })
    // The redrive was published, and its message failed again: the next cycle is open.
    await eventually(async () =>
      expect((await service.dlq.list({ eventId, status: 'open' })).entries).toMatchObject([
        { redriveOf: id },
      ]),
    )
  })
})
