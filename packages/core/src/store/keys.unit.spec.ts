import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { deliveryKey, dlqEntryId, storableLabel, storableText } from './keys.ts'

describe('keys from message content', () => {
  it('plain ids keep readable keys, as before', () => {
    const id = '01a22d68-ae8a-7024-92a8-bb3058d82c8d'
    expect(deliveryKey(id, 'blogs.updateAuthor')).toBe(`${id}/blogs.updateAuthor`)
    expect(deliveryKey(id, 'blogs.updateAuthor', 'r1')).toBe(`${id}/blogs.updateAuthor#replay:r1`)
  })

  it('any other id gets a short hash with no slash, and different inputs never share a key', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 3_000 }),
        fc.string({ unit: 'binary', maxLength: 3_000 }),
        fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        (a, b, replay) => {
          const ka = deliveryKey(a, 'g.h', replay)
          const kb = deliveryKey(b, 'g.h', replay)
          expect(ka.length).toBeLessThanOrEqual(400)
          expect(ka.includes('\u0000')).toBe(false)
          if (a !== b) expect(ka).not.toBe(kb)
        },
      ),
    )
    expect(deliveryKey('a/b', 'c')).toMatch(/^h:[0-9a-f]{32}$/)
    expect(deliveryKey('a', 'b/c')).not.toBe(deliveryKey('a/b', 'c'))
  })

  it('a DLQ entry id names one message of one group', () => {
    const ids = new Set([
      dlqEntryId('e', 'g.h', 'EVENTS', 1),
      dlqEntryId('e', 'g.h', 'EVENTS', 2),
      dlqEntryId('e', 'g.i', 'EVENTS', 1),
      dlqEntryId('e1', 'g.h', 'EVENTS', 1),
    ])
    expect(ids.size).toBe(4)
    expect(dlqEntryId('e', 'g.h', 'EVENTS', 1)).toMatch(/^[0-9a-f]{32}$/)
  })

  it('labels and texts are storable: no NUL, labels at most 200 characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 1_000 }), (text) => {
        expect(storableLabel(text).length).toBeLessThanOrEqual(200)
        expect([...storableLabel(text)].some((c) => c.charCodeAt(0) < 0x20)).toBe(false)
        expect(storableText(text).includes('\u0000')).toBe(false)
      }),
    )
  })
})
