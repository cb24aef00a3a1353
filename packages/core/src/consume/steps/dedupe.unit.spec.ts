import { describe, expect, it, vi } from 'vitest'
import { fakeGroup, noteDelivery } from '../../testing/fake-delivery.ts'
import { inMemoryLedger } from '../../in-memory/adapters.ts'
import { dedupe, needsLedgerCheck } from './dedupe.ts'

const processedLedger = (...keys: string[]) => {
  const ledger = inMemoryLedger()
  for (const key of keys) ledger.keys.add(key)
  return { ...ledger, isProcessed: vi.fn(ledger.isProcessed) }
}

describe('dedupe', () => {
  it('reads nothing on the first delivery of a message published once', async () => {
    const ledger = processedLedger('e1/notes.index')
    const group = fakeGroup({ ledger })
    const delivery = noteDelivery({}, group)
    expect(await dedupe(delivery, group)).toEqual({ kind: 'next', delivery })
    expect(ledger.isProcessed).not.toHaveBeenCalled()
  })

  it('acknowledges a redelivery the group already processed, without running the handler', async () => {
    const group = fakeGroup({ ledger: processedLedger('e1/notes.index') })
    expect(await dedupe(noteDelivery({ deliveryCount: 2 }, group), group)).toEqual({
      kind: 'ack',
      note: 'already processed by this consumer group: acknowledged without running the handler',
    })
  })

  it('checks a message marked as a possible repeat, and one stored long after it was created', async () => {
    const group = fakeGroup({ ledger: processedLedger('e1/notes.index') })
    const relayed = noteDelivery({ headers: { 'Event-Redelivery': 'relay' } }, group)
    expect(await dedupe(relayed, group)).toMatchObject({ kind: 'ack' })
    const late = noteDelivery(
      { headers: { 'Event-Created-At': new Date(Date.now() - 61_000).toISOString() } },
      group,
    )
    expect(await dedupe(late, group)).toMatchObject({ kind: 'ack' })
  })

  it("checks a replay's own ledger entry", async () => {
    const group = fakeGroup({ ledger: processedLedger('e1/notes.index') })
    const replay = noteDelivery(
      { headers: { 'Event-Redelivery': 'replay', 'Replay-Id': 'r1' } },
      group,
    )
    expect(await dedupe(replay, group)).toEqual({ kind: 'next', delivery: replay })
  })

  it('retries with backoff when the ledger cannot be read and attempts are left', async () => {
    const ledger = { ...inMemoryLedger(), isProcessed: () => Promise.reject(new Error('down')) }
    const group = fakeGroup({ ledger })
    const outcome = await dedupe(noteDelivery({ deliveryCount: 3 }, group), group)
    expect(outcome).toMatchObject({ kind: 'retry' })
    // After failure 3: between half and all of 4 s.
    expect(outcome.kind === 'retry' && outcome.delayMs).toBeGreaterThanOrEqual(2_000)
    expect(outcome.kind === 'retry' && outcome.delayMs).toBeLessThanOrEqual(4_000)
  })

  it('goes on past the last attempt when the ledger cannot be read (the next step gives it up)', async () => {
    const ledger = { ...inMemoryLedger(), isProcessed: () => Promise.reject(new Error('down')) }
    const group = fakeGroup({ ledger })
    const delivery = noteDelivery({ deliveryCount: 6 }, group)
    expect(await dedupe(delivery, group)).toEqual({ kind: 'next', delivery })
  })

  it('goes on when the ledger has no entry', async () => {
    const group = fakeGroup()
    const delivery = noteDelivery({ deliveryCount: 2 }, group)
    expect(await dedupe(delivery, group)).toEqual({ kind: 'next', delivery })
  })
})

describe('needsLedgerCheck', () => {
  const now = Date.now()
  const window = 120_000
  it('is false only for a first, unmarked delivery stored soon after it was created', () => {
    expect(needsLedgerCheck(1, { createdAt: new Date(now - 1_000) }, now, window)).toBe(false)
    expect(needsLedgerCheck(2, { createdAt: new Date(now) }, now, window)).toBe(true)
    expect(
      needsLedgerCheck(1, { redelivery: 'retry', createdAt: new Date(now) }, now, window),
    ).toBe(true)
    expect(needsLedgerCheck(1, { createdAt: new Date(now - 60_001) }, now, window)).toBe(true)
    expect(needsLedgerCheck(1, {}, now, window)).toBe(true)
  })
})
