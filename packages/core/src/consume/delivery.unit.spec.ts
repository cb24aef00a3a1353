import { afterEach, describe, expect, it, vi } from 'vitest'
import { signatureRefusal } from '../publish/signature.ts'
import { captureLines, fakeGroup, noteMessage } from '../testing/fake-delivery.ts'
import { inMemoryDeadLetters, inMemoryLedger } from '../in-memory/adapters.ts'
import { DeliveriesInFlight } from './deliveries-in-flight.ts'
import { deliverySteps, handleDelivery } from './delivery.ts'

afterEach(() => vi.useRealTimers())

describe('a delivery', () => {
  it('goes through the steps in one fixed order', () => {
    expect(deliverySteps.map((step) => step.name)).toEqual([
      'verifySignature',
      'checkHeaders',
      'checkSubject',
      'decode',
      'dedupe',
      'lostAttempts',
      'runHandler',
      'recordFailure',
    ])
  })

  it('handled: the ledger is written and the message acknowledged, once', async () => {
    const ledger = inMemoryLedger()
    const group = fakeGroup({ ledger })
    const msg = noteMessage()
    expect(await handleDelivery(msg, group)).toEqual({ kind: 'ack', note: 'handled' })
    expect(msg.settlements).toEqual([{ kind: 'ack' }])
    expect([...ledger.keys]).toEqual(['e1/notes.index'])
  })

  it('failed: retried with a nak and a delay', async () => {
    const group = fakeGroup({
      handler: async () => {
        throw new Error('boom')
      },
    })
    const msg = noteMessage()
    const settlement = await handleDelivery(msg, group)
    expect(settlement.kind).toBe('retry')
    expect(msg.settlements).toEqual([
      { kind: 'nak', delayMs: settlement.kind === 'retry' ? settlement.delayMs : -1 },
    ])
  })

  it('bad input: its DLQ entry is written, then the message is terminated', async () => {
    const deadLetters = inMemoryDeadLetters()
    const group = fakeGroup({ deadLetters })
    const msg = noteMessage({ data: '{"text":' })
    expect(await handleDelivery(msg, group)).toMatchObject({ kind: 'deadLettered' })
    const [entry] = deadLetters.entries.values()
    expect(entry).toMatchObject({ eventId: 'e1', trusted: true, attempts: [{ attempt: 1 }] })
    expect(entry!.reason).toMatch(/^the body is not JSON/)
    expect(msg.settlements).toEqual([{ kind: 'term', reason: entry!.reason.slice(0, 200) }])
  })

  it('forged: kept as an untrusted entry, never handled', async () => {
    const deadLetters = inMemoryDeadLetters()
    const handler = vi.fn(async () => undefined)
    const group = fakeGroup({ deadLetters, handler, signer: { verify: () => 'missing' } })
    await handleDelivery(noteMessage(), group)
    expect([...deadLetters.entries.values()]).toMatchObject([
      { trusted: false, reason: signatureRefusal('missing') },
    ])
    expect(handler).not.toHaveBeenCalled()
  })

  it('a DLQ write MongoDB refuses: parked, then terminated', async () => {
    const park = vi.fn(async () => undefined)
    const group = fakeGroup({
      deadLetters: { record: () => Promise.reject(new Error('no primary')), park },
    })
    const msg = noteMessage({ data: 'not json' })
    expect(await handleDelivery(msg, group)).toMatchObject({ kind: 'parked' })
    expect(park).toHaveBeenCalledOnce()
    expect(msg.settlements).toMatchObject([{ kind: 'term' }])
  })

  it('a DLQ write nothing takes: left unacknowledged (nak), to be given up again', async () => {
    const group = fakeGroup({
      deadLetters: {
        record: () => Promise.reject(new Error('no primary')),
        park: () => Promise.reject(new Error('no responders')),
      },
    })
    const msg = noteMessage({ data: 'not json' })
    expect(await handleDelivery(msg, group)).toMatchObject({ kind: 'unrecorded' })
    expect(msg.settlements).toMatchObject([{ kind: 'nak', delayMs: expect.any(Number) as number }])
  })

  it('an unexpected error: logged, and delivered again in a second', async () => {
    const logs = captureLines()
    const group = fakeGroup({
      logger: logs.logger,
      ledger: { ...inMemoryLedger(), markProcessed: () => Promise.reject(new Error('down')) },
    })
    const msg = noteMessage()
    expect(await handleDelivery(msg, group)).toEqual({ kind: 'retry', delayMs: 1_000 })
    expect(msg.settlements).toEqual([{ kind: 'nak', delayMs: 1_000 }])
    expect(logs.lines).toMatchObject([
      {
        msg: 'delivery failed unexpectedly; it will be redelivered',
        eventId: 'e1',
        consumerGroup: 'notes.index',
        err: { message: 'down' },
      },
    ])
  })

  it('is kept alive three times per ack wait until it is settled, then no more', async () => {
    vi.useFakeTimers()
    let finish: () => void = () => undefined
    const group = fakeGroup({
      settings: { ...fakeGroup().settings, ackWaitMs: 300, timeoutMs: 10_000 },
      handler: () => new Promise<void>((resolve) => (finish = resolve)),
    })
    const msg = noteMessage()
    const settled = handleDelivery(msg, group)
    await vi.advanceTimersByTimeAsync(1_050)
    expect(msg.beats).toBe(10)
    finish()
    await settled
    await vi.advanceTimersByTimeAsync(1_000)
    expect(msg.beats).toBe(10)
    expect(msg.settlements).toEqual([{ kind: 'ack' }])
  })

  it('delivered again while its first delivery still runs here: waits for it, reads the ledger, runs the handler once', async () => {
    // A copy JetStream sends again before the first delivery's keep-alives reached it (a consumer
    // leader moved in a cluster), even a first delivery of a copy (attempt 1, never read against
    // the ledger on its own).
    let runs = 0
    let finish: () => void = () => undefined
    const ledger = inMemoryLedger()
    const group = fakeGroup({
      ledger,
      handler: () => {
        runs++
        return new Promise<void>((resolve) => (finish = resolve))
      },
    })
    const inFlight = new DeliveriesInFlight()
    const first = noteMessage()
    const again = noteMessage()
    const firstSettled = handleDelivery(first, group, inFlight)
    const againSettled = handleDelivery(again, group, inFlight)
    await vi.waitFor(() => expect(runs).toBe(1))
    expect(inFlight.size).toBe(1)
    finish()
    expect(await firstSettled).toEqual({ kind: 'ack', note: 'handled' })
    const repeat = await againSettled
    expect(repeat.kind === 'ack' && repeat.note).toMatch(/already processed/)
    expect(runs).toBe(1)
    expect(again.settlements).toEqual([{ kind: 'ack' }])
    expect(inFlight.size).toBe(0)
  })

  it('deliveries of different events run side by side', async () => {
    let running = 0
    let most = 0
    const release: (() => void)[] = []
    const group = fakeGroup({
      handler: () => {
        most = Math.max(most, ++running)
        return new Promise<void>((resolve) =>
          release.push(() => {
            running--
            resolve()
          }),
        )
      },
    })
    const inFlight = new DeliveriesInFlight()
    const settled = ['e1', 'e2'].map((id) =>
      handleDelivery(
        noteMessage({ headers: { 'Nats-Msg-Id': id, 'Event-Id': id } }),
        group,
        inFlight,
      ),
    )
    await vi.waitFor(() => expect(release).toHaveLength(2))
    for (const done of release) done()
    await Promise.all(settled)
    expect(most).toBe(2)
  })
})
