import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { filtersOf } from './hash-filters.ts'
import { hashOf, parseHash } from './route.ts'

const keys = ['status', 'consumerGroup', 'subject', 'eventId'] as const
/** As the browser keeps text: lone surrogates become U+FFFD. */
const wellFormed = (text: string) => Buffer.from(text, 'utf8').toString('utf8')

describe('filters in the hash', () => {
  it('reads the filters of a Slack link, and absent ones as empty', () => {
    const { query } = parseHash(
      '#/dlq?consumerGroup=comments.updateAuthorName&subject=User.nameUpdated',
    )
    expect(filtersOf(keys, query)).toEqual({
      status: '',
      consumerGroup: 'comments.updateAuthorName',
      subject: 'User.nameUpdated',
      eventId: '',
    })
  })

  it('gives back any filters it wrote, whatever they hold (&, =, #, ?, %, spaces, any script)', () => {
    fc.assert(
      fc.property(
        fc.record(
          Object.fromEntries(keys.map((k) => [k, fc.string({ unit: 'binary', maxLength: 40 })])),
        ),
        (written) => {
          const hash = hashOf(['dlq'], written)
          const read = filtersOf(keys, parseHash(hash).query)
          for (const k of keys) expect(read[k]).toBe(wellFormed(written[k]!))
        },
      ),
    )
  })

  it('never fails on a hash typed by hand: each filter is text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (typed) => {
        const read = filtersOf(keys, parseHash(typed).query)
        for (const k of keys) expect(typeof read[k]).toBe('string')
      }),
    )
    expect(filtersOf(keys, parseHash('#/dlq?subject=%ZZ&eventId=%E0%A4%A').query)).toMatchObject({
      subject: '%ZZ',
      eventId: '\uFFFD%A', // bytes that are not UTF-8: the replacement character
    })
  })
})
