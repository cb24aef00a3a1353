import { describe, expect, it } from 'vitest'
import { fakeGroup, noteDelivery } from '../../testing/fake-delivery.ts'
import { checkHeaders } from './check-headers.ts'

describe('check headers', () => {
  it('lets a message with usable headers go on', async () => {
    const delivery = noteDelivery()
    expect(await checkHeaders(delivery, fakeGroup())).toEqual({ kind: 'next', delivery })
  })

  it.each([
    ['Event-Version', 'abc', 'Event-Version "abc" is not a version (a whole number from 1)'],
    ['Event-Created-At', 'yesterday', 'Event-Created-At "yesterday" is not a date'],
    [
      'Event-Redelivery',
      'again',
      'Event-Redelivery "again" is not one of relay, retry, redrive, replay',
    ],
  ])('refuses %s %s into the DLQ, trusted, on the first delivery', async (name, value, reason) => {
    const outcome = await checkHeaders(noteDelivery({ headers: { [name]: value } }), fakeGroup())
    expect(outcome).toMatchObject({
      kind: 'deadLetter',
      reason,
      trusted: true,
      attempts: [{ attempt: 1, message: reason }],
    })
  })
})
