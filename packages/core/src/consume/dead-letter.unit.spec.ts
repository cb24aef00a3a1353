import { describe, expect, it, vi } from 'vitest'
import { dlqEntryId } from '../store/keys.ts'
import { fakeGroup, noteDelivery } from '../testing/fake-delivery.ts'
import { letterOf, writeDeadLetter, type DeadLetterQueue } from './dead-letter.ts'
import { deadLetter } from './outcome.ts'

const group = fakeGroup()
const letter = letterOf(
  noteDelivery({ headers: { 'Dlq-Redrive-Of': 'entry0' } }, group),
  group,
  deadLetter('bad', [], { ledgerKey: 'e1/notes.index' }),
)

describe('the DLQ write', () => {
  it('records the entry: then the message is terminated', async () => {
    const park = vi.fn(async () => undefined)
    const queue: DeadLetterQueue = { record: async () => undefined, park }
    expect(await writeDeadLetter(queue, letter, 1_000)).toEqual({ kind: 'deadLettered', letter })
    expect(park).not.toHaveBeenCalled()
  })

  it('parks the letter when the entry is not taken', async () => {
    const cause = new Error('no primary')
    const park = vi.fn(async () => undefined)
    const queue: DeadLetterQueue = { record: () => Promise.reject(cause), park }
    expect(await writeDeadLetter(queue, letter, 1_000)).toEqual({ kind: 'parked', letter, cause })
    expect(park).toHaveBeenCalledWith(letter, cause)
  })

  it('leaves the message unrecorded, to be delivered again, when neither takes it', async () => {
    const cause = new Error('no primary')
    const parkError = new Error('no responders')
    const queue: DeadLetterQueue = {
      record: () => Promise.reject(cause),
      park: () => Promise.reject(parkError),
    }
    expect(await writeDeadLetter(queue, letter, 2_500)).toEqual({
      kind: 'unrecorded',
      letter,
      cause,
      parkError,
      delayMs: 2_500,
    })
  })
})

describe('the letter of a delivery', () => {
  it('holds the message as it arrived, its ids, the group, and why it was given up', () => {
    expect(letter).toMatchObject({
      entryId: dlqEntryId('e1', 'notes.index', 'EVENTS', 7),
      ledgerKey: 'e1/notes.index',
      eventId: 'e1',
      subject: 'Note.added',
      version: 2,
      operationId: 'op1',
      parentId: 'op1',
      redriveOf: 'entry0',
      consumerGroup: 'notes.index',
      service: 'notes',
      handler: 'index',
      reason: 'bad',
      trusted: true,
      stream: 'EVENTS',
      streamSequence: 7,
    })
    expect(Buffer.from(letter.body).toString()).toBe('{"text":"hello"}')
    expect(Buffer.from(letter.headerBlock).toString()).toContain('Event-Id: e1\r\n')
  })

  it('leaves out what the message did not carry', () => {
    const bare = letterOf(
      noteDelivery({
        headers: { 'Event-Version': undefined, 'Operation-Id': undefined, 'Parent-Id': undefined },
      }),
      group,
      deadLetter('forged', [], { trusted: false }),
    )
    expect(bare).not.toHaveProperty('version')
    expect(bare).not.toHaveProperty('operationId')
    expect(bare).not.toHaveProperty('ledgerKey')
    expect(bare.trusted).toBe(false)
  })
})
