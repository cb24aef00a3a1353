import { describe, expect, it } from 'vitest'
import { fakeGroup, noteDelivery } from '../../testing/fake-delivery.ts'
import { checkSubject } from './check-subject.ts'

describe('check subject', () => {
  it("lets the group's own subject go on, from the wire subject or Event-Subject", async () => {
    const group = fakeGroup()
    const onWire = noteDelivery()
    expect(await checkSubject(onWire, group)).toEqual({ kind: 'next', delivery: onWire })
    const redrive = noteDelivery({
      subject: 'events._redrive.notes_index',
      headers: { 'Event-Subject': 'Note.added' },
    })
    expect(await checkSubject(redrive, group)).toEqual({ kind: 'next', delivery: redrive })
  })

  it('refuses another subject into the DLQ, trusted', async () => {
    const outcome = await checkSubject(
      noteDelivery({
        subject: 'events._redrive.notes_index',
        headers: { 'Event-Subject': 'Note.removed' },
      }),
      fakeGroup(),
    )
    expect(outcome).toMatchObject({
      kind: 'deadLetter',
      reason: 'this consumer group handles Note.added, not Note.removed',
      trusted: true,
    })
  })
})
