import { describe, expect, it } from 'vitest'
import { captureLines, fakeGroup, noteDelivery } from '../../testing/fake-delivery.ts'
import { inMemoryFailureLog } from '../../in-memory/adapters.ts'
import type { FailureLog } from '../failures.ts'
import { lostAttempts } from './lost-attempts.ts'

const unavailable: FailureLog = {
  record: () => Promise.reject(new Error('MongoDB is down')),
  recordLost: () => Promise.reject(new Error('MongoDB is down')),
}

describe('lost attempts', () => {
  it('records nothing on a first delivery', async () => {
    const failures = inMemoryFailureLog()
    const group = fakeGroup({ failures })
    const delivery = noteDelivery({}, group)
    expect(await lostAttempts(delivery, group)).toEqual({ kind: 'next', delivery })
    expect(failures.records.size).toBe(0)
  })

  it('records the deliveries before this one that left no outcome, then goes on', async () => {
    const failures = inMemoryFailureLog()
    const group = fakeGroup({ failures })
    await failures.record({
      key: 'e1/notes.index',
      eventId: 'e1',
      consumerGroup: 'notes.index',
      subject: 'Note.added',
      streamSequence: 7,
      attempt: 1,
      error: new Error('boom'),
    })
    const delivery = noteDelivery({ deliveryCount: 3 }, group)
    expect(await lostAttempts(delivery, group)).toEqual({ kind: 'next', delivery })
    expect(failures.records.get('e1/notes.index')!.map((a) => [a.attempt, a.message])).toEqual([
      [1, 'boom'],
      [2, 'no outcome was recorded for delivery 2 (the process stopped or the ack wait passed)'],
    ])
  })

  it('gives up past the last allowed failure, the lost ones counted, with its ledger key', async () => {
    const group = fakeGroup()
    const outcome = await lostAttempts(noteDelivery({ deliveryCount: 6 }, group), group)
    expect(outcome).toMatchObject({
      kind: 'deadLetter',
      reason:
        'failed 5 times; last error: no outcome was recorded for delivery 5 (the process stopped or the ack wait passed)',
      trusted: true,
      ledgerKey: 'e1/notes.index',
    })
    expect(outcome.kind === 'deadLetter' && outcome.attempts.map((a) => a.attempt)).toEqual([
      1, 2, 3, 4, 5,
    ])
  })

  it('gives up past the last allowed failure even when MongoDB does not answer', async () => {
    const group = fakeGroup({ failures: unavailable })
    const outcome = await lostAttempts(noteDelivery({ deliveryCount: 6 }, group), group)
    expect(outcome).toMatchObject({
      kind: 'deadLetter',
      reason:
        'failed 5 times; last error: attempt 5: its outcome could not be read (MongoDB did not answer)',
      ledgerKey: 'e1/notes.index',
    })
  })

  it('goes on with a warning when the lost attempts cannot be recorded', async () => {
    const logs = captureLines()
    const group = fakeGroup({ failures: unavailable, logger: logs.logger })
    const delivery = noteDelivery({ deliveryCount: 2 }, group)
    expect(await lostAttempts(delivery, group)).toEqual({ kind: 'next', delivery })
    expect(logs.messages()).toEqual(['could not record the attempts before this one'])
  })
})
