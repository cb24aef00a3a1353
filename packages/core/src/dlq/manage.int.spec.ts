import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import type { ReceivedEvent } from '../consume/handler.ts'
import type { Service } from '../service.ts'
import { deliveryKey } from '../store/keys.ts'
import { createTestService, dlqEntryIdOf } from '../testing/test-service.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'dlq')

const InvoiceIssued = defineEvent({
  subject: 'Invoice.issued',
  version: 1,
  schema: z.object({ invoiceId: z.string(), amount: z.number() }),
})

let billing: Service
let audit: Service
let fixed = false
const charged: ReceivedEvent<{ invoiceId: string; amount: number }>[] = []
const audited: string[] = []
beforeAll(async () => {
  billing = await createTestService(ns, servers, 'billing')
  audit = await createTestService(ns, servers, 'audit')
  billing.on(InvoiceIssued, { handler: 'charge' }, async (event) => {
    if (!fixed) throw new Error('payment provider rejects the currency')
    charged.push(event)
  })
  audit.on(InvoiceIssued, { handler: 'record' }, async (event) => {
    audited.push(event.data.invoiceId)
  })
  await billing.start()
  await audit.start()
})
afterAll(async () => {
  await billing.stop()
  await audit.stop()
  await ns.cleanup()
})

async function issueAndFail(invoiceId: string) {
  const op = await billing.startOperation({ name: 'invoiceIssue', input: { invoiceId } })
  const eventId = await op.publish(InvoiceIssued, { invoiceId, amount: 42 })
  const id = await dlqEntryIdOf(billing, eventId, 'billing.charge')
  expect(await billing.dlq.get(id)).toMatchObject({ status: 'open' })
  return { id, eventId, operationId: op.id }
}

describe('the dead letter queue API', () => {
  it('redrive after the fix: the effect happens once, only in that consumer group, and the chain stays whole', async () => {
    const { id, eventId, operationId } = await issueAndFail('inv-1')
    await eventually(() => expect(audited).toEqual(['inv-1']))
    fixed = true

    const result = await billing.dlq.redrive(id, 'ops@example.com')
    expect(result).toMatchObject({ ok: true, entry: { status: 'redriven' } })
    await eventually(() => expect(charged.map((e) => e.data.invoiceId)).toEqual(['inv-1']))
    expect(charged[0]).toMatchObject({
      id: eventId,
      operationId,
      parentId: operationId,
      redelivery: 'redrive',
    })
    await eventually(async () =>
      expect(
        await billing.store.processed.countDocuments({
          _id: deliveryKey(eventId, 'billing.charge'),
        }),
      ).toBe(1),
    )
    expect(audited).toEqual(['inv-1']) // the other group never saw the redrive

    const again = await billing.dlq.redrive(id, 'ops@example.com')
    expect(again).toEqual({
      ok: false,
      code: 'not-open',
      reason: expect.stringMatching(
        /^the entry is redriven \(redrive by ops@example.com at .+\): only open entries/,
      ) as string,
    })
    const entry = await billing.dlq.get(id)
    expect(entry?.history).toEqual([
      { action: 'redrive', by: 'ops@example.com', at: expect.any(Date) as Date },
    ])
    expect(entry?.attempts).toHaveLength(5)
    fixed = false
  })

  it('discard and resolve are recorded with who and why, and close the entry', async () => {
    const first = await issueAndFail('inv-2')
    const second = await issueAndFail('inv-3')

    const discarded = await billing.dlq.discard(
      first.id,
      'ops@example.com',
      'invoice was cancelled',
    )
    expect(discarded).toMatchObject({
      ok: true,
      entry: {
        status: 'discarded',
        history: [{ action: 'discard', reason: 'invoice was cancelled' }],
      },
    })
    const resolved = await billing.dlq.resolve(second.id, 'ana', 'charged by hand')
    expect(resolved).toMatchObject({
      ok: true,
      entry: { status: 'resolved', history: [{ action: 'resolve', by: 'ana' }] },
    })

    expect(await billing.dlq.redrive(first.id, 'ops')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('discarded') as string,
    })
    expect(await billing.dlq.discard(second.id, 'ops', 'x')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('resolved') as string,
    })
    expect(await billing.dlq.redrive('no-such-entry', 'ops')).toEqual({
      ok: false,
      code: 'not-found',
      reason: 'no DLQ entry no-such-entry',
    })
  })

  it('lists with filters, pages, and redrives by filter with progress', async () => {
    const a = await issueAndFail('inv-4')
    const b = await issueAndFail('inv-5')
    const open = await billing.dlq.list({ consumerGroup: 'billing.charge', status: 'open' })
    expect(open.entries.map((e) => e._id).sort()).toEqual([a.id, b.id].sort())
    expect(open.next).toBeNull()
    expect((await billing.dlq.list({ service: 'billing' }, { limit: 1 })).entries).toHaveLength(1)
    expect(await billing.dlq.list({ subject: 'Nothing.happened' })).toEqual({
      entries: [],
      next: null,
    })

    fixed = true
    const progress: string[] = []
    const report = await billing.dlq.redriveWhere(
      { consumerGroup: 'billing.charge' },
      'ops',
      (done, total) => progress.push(`${done}/${total}`),
    )
    expect(report).toMatchObject({ total: 2, refused: [] })
    expect(report.redriven.sort()).toEqual([a.id, b.id].sort())
    expect(progress).toEqual(['1/2', '2/2'])
    await eventually(() =>
      expect(charged.map((e) => e.data.invoiceId).sort()).toEqual(['inv-1', 'inv-4', 'inv-5']),
    )
  })

  it('pages newest first, each entry once, through ties in time and entries added meanwhile', async () => {
    const template = await billing.store.dlq.findOne({ consumerGroup: 'billing.charge' })
    expect(template).not.toBeNull()
    const base = Date.parse('2026-01-01T00:00:00Z')
    let round = 0
    await fc.assert(
      fc.asyncProperty(
        // Times from a few distinct instants, so many entries share one.
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 5 }),
        async (offsets, limit) => {
          const consumerGroup = `billing.paging${++round}`
          const made = offsets.map((offset, i) => ({
            ...template!,
            _id: `paging-${round}-${String(i).padStart(2, '0')}`,
            consumerGroup,
            createdAt: new Date(base + offset),
          }))
          if (made.length > 0) await billing.store.dlq.insertMany(made)
          const seen: string[] = []
          let before: string | undefined
          for (let page = 0; page <= made.length; page++) {
            const listed = await billing.dlq.list({ consumerGroup }, { limit, before })
            expect(listed.entries.length).toBeLessThanOrEqual(limit)
            seen.push(...listed.entries.map((e) => e._id))
            // A newer entry arriving between pages shifts nothing: it belongs to the first page.
            if (page === 0)
              await billing.store.dlq.insertOne({
                ...template!,
                _id: `paging-${round}-newer`,
                consumerGroup,
                createdAt: new Date(base + 10),
              })
            if (listed.next === null) break
            expect(listed.next).toBe(listed.entries.at(-1)!._id)
            before = listed.next
          }
          const newestFirst = [...made]
            .sort(
              (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a._id < b._id ? 1 : -1),
            )
            .map((e) => e._id)
          expect(seen).toEqual(newestFirst)
        },
      ),
      { numRuns: 25 },
    )
    await billing.store.dlq.deleteMany({ consumerGroup: { $regex: '^billing\\.paging' } })
  })
})
