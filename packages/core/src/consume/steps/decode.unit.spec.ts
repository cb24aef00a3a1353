import { describe, expect, it } from 'vitest'
import { defineEvent } from '../../event-definition.ts'
import { fakeGroup, noteDelivery } from '../../testing/fake-delivery.ts'
import { z } from 'zod'
import type { ConsumerGroup } from '../delivery.ts'
import { decode } from './decode.ts'

describe('decode', () => {
  it('gives the handler the event: data, ids, versions, redelivery', async () => {
    const createdAt = new Date('2026-01-02T03:04:05.000Z')
    const delivery = noteDelivery({
      headers: { 'Event-Created-At': createdAt.toISOString(), 'Event-Redelivery': 'redrive' },
    })
    const result = await decode(delivery, fakeGroup())
    expect(result).toEqual({
      kind: 'next',
      delivery: {
        ...delivery,
        event: {
          id: 'e1',
          subject: 'Note.added',
          version: 2,
          publishedVersion: 2,
          data: { text: 'hello' },
          operationId: 'op1',
          parentId: 'op1',
          createdAt,
          redelivery: 'redrive',
        },
      },
    })
  })

  it('lifts an older version with the upcasters; a message without a version is the current one', async () => {
    const old = await decode(
      noteDelivery({ headers: { 'Event-Version': '1' }, data: '{"body":"old"}' }),
      fakeGroup(),
    )
    expect(old).toMatchObject({
      kind: 'next',
      delivery: { event: { data: { text: 'old' }, version: 2, publishedVersion: 1 } },
    })
    const bare = await decode(
      noteDelivery({ headers: { 'Event-Version': undefined } }),
      fakeGroup(),
    )
    expect(bare).toMatchObject({ delivery: { event: { publishedVersion: 2 } } })
  })

  it('takes ids from the event id when the message carries no lineage', async () => {
    const result = await decode(
      noteDelivery({ headers: { 'Operation-Id': undefined, 'Parent-Id': undefined } }),
      fakeGroup(),
    )
    expect(result).toMatchObject({ delivery: { event: { operationId: 'e1', parentId: 'e1' } } })
  })

  it.each([
    [
      'not UTF-8',
      new Uint8Array([0xff, 0xfe, 0x00]),
      'the body is not UTF-8 text, so not JSON (3 bytes)',
    ],
    ['not JSON', '{"text":', 'the body is not JSON ('],
    ['invalid against the schema', '{"text":""}', 'Note.added data is invalid:'],
  ])('refuses a body %s into the DLQ, trusted, on the first delivery', async (_, data, reason) => {
    const outcome = await decode(noteDelivery({ data }), fakeGroup())
    expect(outcome).toMatchObject({ kind: 'deadLetter', trusted: true })
    expect(outcome.kind === 'deadLetter' && outcome.reason).toContain(reason)
  })

  it('refuses a version this code does not know', async () => {
    const outcome = await decode(noteDelivery({ headers: { 'Event-Version': '7' } }), fakeGroup())
    expect(outcome).toMatchObject({ kind: 'deadLetter', trusted: true })
    expect(outcome.kind === 'deadLetter' && outcome.reason).toContain('version 7 is unknown here')
  })

  it('refuses data an upcaster cannot lift', async () => {
    const Broken = defineEvent({
      subject: 'Note.added',
      version: 2,
      schema: z.object({ text: z.string() }),
      upcasters: {
        1: () => {
          throw new Error('upcaster bug')
        },
      },
    })
    const group = fakeGroup({ definition: Broken })
    const outcome = await decode(noteDelivery({ headers: { 'Event-Version': '1' } }), group)
    expect(outcome).toMatchObject({
      kind: 'deadLetter',
      reason: 'Note.added: the upcaster from version 1 to 2 failed: upcaster bug',
    })
  })

  it('lets an unexpected error through (the delivery is retried): a schema that throws', async () => {
    const definition: ConsumerGroup['definition'] = {
      subject: 'Note.added',
      version: 2,
      schema: {
        '~standard': {
          version: 1,
          vendor: 'test',
          validate: () => {
            throw new Error('schema bug')
          },
        },
      },
      oldestVersion: 1,
      upcasters: {},
    }
    const group = fakeGroup({ definition })
    await expect(decode(noteDelivery({}, group), group)).rejects.toThrow('schema bug')
  })
})
