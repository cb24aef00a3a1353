import { describe, expect, it } from 'vitest'
import { captureLines, noteMessage } from '../testing/fake-delivery.ts'
import type { DeadLetter } from './dlq.ts'
import { settle } from './settle.ts'

const letter = {
  entryId: 'entry1',
  eventId: 'e1',
  consumerGroup: 'notes.index',
  reason: `failed 5 times; last error: ${'x'.repeat(300)}`,
} as DeadLetter

describe('settle', () => {
  it('ack: acknowledges, and says why at debug level', () => {
    const logs = captureLines()
    const msg = noteMessage()
    settle(msg, { kind: 'ack', note: 'handled' }, logs.logger)
    expect(msg.settlements).toEqual([{ kind: 'ack' }])
    expect(logs.lines).toMatchObject([{ level: 20, msg: 'handled' }])
  })

  it('retry: naks with the delay', () => {
    const logs = captureLines()
    const msg = noteMessage()
    settle(msg, { kind: 'retry', delayMs: 750 }, logs.logger)
    expect(msg.settlements).toEqual([{ kind: 'nak', delayMs: 750 }])
    expect(logs.lines).toEqual([])
  })

  it('a recorded DLQ entry: terminates with the reason (200 characters), and says so', () => {
    const logs = captureLines()
    const msg = noteMessage()
    settle(msg, { kind: 'deadLettered', letter }, logs.logger)
    expect(msg.settlements).toEqual([{ kind: 'term', reason: letter.reason.slice(0, 200) }])
    expect(logs.lines).toMatchObject([
      {
        level: 50,
        entryId: 'entry1',
        msg: `Moved to the dead letter queue, consumer group: notes.index, event: e1, reason: ${letter.reason}`,
      },
    ])
  })

  it('a parked letter: terminates, and says why MongoDB did not take it', () => {
    const logs = captureLines()
    const msg = noteMessage()
    settle(msg, { kind: 'parked', letter, cause: new Error('no primary') }, logs.logger)
    expect(msg.settlements).toEqual([{ kind: 'term', reason: letter.reason.slice(0, 200) }])
    expect(logs.lines).toMatchObject([
      {
        entryId: 'entry1',
        err: { message: 'no primary' },
        msg: expect.stringMatching(
          /^Parked for the dead letter queue \(MongoDB did not take the entry; it moves there once it does\), consumer group: notes.index, event: e1, reason: failed 5 times/,
        ) as string,
      },
    ])
  })

  it('unrecorded: leaves it unacknowledged (nak with the delay), and says so', () => {
    const logs = captureLines()
    const msg = noteMessage()
    settle(
      msg,
      {
        kind: 'unrecorded',
        letter,
        cause: new Error('no primary'),
        parkError: new Error('no responders'),
        delayMs: 4_000,
      },
      logs.logger,
    )
    expect(msg.settlements).toEqual([{ kind: 'nak', delayMs: 4_000 }])
    expect(logs.lines).toMatchObject([
      {
        err: { message: 'no responders' },
        cause: 'no primary',
        msg: 'could not record the DLQ entry nor park the message; it stays unacknowledged and is delivered again',
      },
    ])
  })
})
