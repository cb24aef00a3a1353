import { describe, expect, it } from 'vitest'
import { captureLines, fakeGroup, noteDelivery } from '../../testing/fake-delivery.ts'
import { inMemoryFailureLog } from '../../in-memory/adapters.ts'
import type { ConsumerGroup } from '../delivery.ts'
import { recordFailure } from './record-failure.ts'

function failed(group: ConsumerGroup, attempt: number, error: unknown = new Error('boom')) {
  return {
    ...noteDelivery({ deliveryCount: attempt }, group),
    failure: { error, startedAt: new Date() },
  }
}

describe('record failure', () => {
  it('records the failure and retries with backoff, saying how many times it failed', async () => {
    const logs = captureLines()
    const failures = inMemoryFailureLog()
    const group = fakeGroup({ failures, logger: logs.logger })
    const outcome = await recordFailure(failed(group, 1), group)
    expect(outcome).toMatchObject({ kind: 'retry' })
    // After failure 1: between half and all of the 1 s base delay.
    expect(outcome.kind === 'retry' && outcome.delayMs).toBeGreaterThanOrEqual(500)
    expect(outcome.kind === 'retry' && outcome.delayMs).toBeLessThanOrEqual(1_000)
    expect(failures.records.get('e1/notes.index')).toMatchObject([
      { attempt: 1, streamSequence: 7, message: 'boom' },
    ])
    expect(logs.lines.at(-1)).toMatchObject({
      msg: 'Failed 1 times, consumer group: notes.index, event: e1, error: boom',
      eventId: 'e1',
      operationId: 'op1',
      consumerGroup: 'notes.index',
    })
  })

  it('gives up on the last allowed failure, with every attempt and its ledger key', async () => {
    const group = fakeGroup({
      settings: {
        ...fakeGroup().settings,
        retry: { maxFailures: 2, baseDelayMs: 1, maxDelayMs: 1 },
      },
    })
    await recordFailure(failed(group, 1, new Error('first')), group)
    const outcome = await recordFailure(failed(group, 2, 'second'), group)
    expect(outcome).toMatchObject({
      kind: 'deadLetter',
      reason: 'failed 2 times; last error: second',
      trusted: true,
      ledgerKey: 'e1/notes.index',
    })
    expect(outcome.kind === 'deadLetter' && outcome.attempts.map((a) => a.message)).toEqual([
      'first',
      'second',
    ])
  })

  it('retries when the failure cannot be recorded (the count still advances in JetStream)', async () => {
    const logs = captureLines()
    const group = fakeGroup({
      logger: logs.logger,
      failures: {
        record: () => Promise.reject(new Error('MongoDB is down')),
        recordLost: () => Promise.reject(new Error('MongoDB is down')),
      },
    })
    expect(await recordFailure(failed(group, 5), group)).toMatchObject({ kind: 'retry' })
    expect(logs.messages()).toEqual(['could not record the failure; retrying the delivery'])
  })

  it('comes only after a failed run', async () => {
    const group = fakeGroup()
    await expect(recordFailure(noteDelivery({}, group), group)).rejects.toThrow(
      'after a handler that failed',
    )
  })
})
