import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { openByConsumerGroup, otherConsumerGroup } from './system-figures.ts'

// The open DLQ entries are labelled by consumer group: only with the names of the stream's
// consumer groups, whatever MongoDB holds.
describe('open DLQ entries by consumer group', () => {
  it('every group of the stream has a figure, 0 without entries; unknown stored groups add up under other', () => {
    expect(
      openByConsumerGroup(
        ['blogs.index', 'comments.notify'],
        [
          { _id: 'blogs.index', open: 2 },
          { _id: 'gone.handler', open: 3 },
          { _id: null, open: 1 },
        ],
      ),
    ).toEqual([
      { consumerGroup: 'blogs.index', open: 2 },
      { consumerGroup: 'comments.notify', open: 0 },
      { consumerGroup: otherConsumerGroup, open: 4 },
    ])
    expect(openByConsumerGroup(['blogs.index'], [])).toEqual([
      { consumerGroup: 'blogs.index', open: 0 },
    ])
  })

  it('a stored value never becomes a label unless the stream has that group; no entry is lost', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string(), { maxLength: 5 }),
        fc.array(
          fc.record({
            _id: fc.oneof(fc.string(), fc.constant(null), fc.integer()),
            open: fc.nat(1_000),
          }),
          { maxLength: 20 },
        ),
        (known, stored) => {
          const figures = openByConsumerGroup(known, stored)
          const allowed = new Set([...known, otherConsumerGroup])
          for (const { consumerGroup } of figures) expect(allowed.has(consumerGroup)).toBe(true)
          const total = (rows: readonly { open: number }[]) =>
            rows.reduce((sum, row) => sum + row.open, 0)
          expect(total(figures)).toBe(total(stored))
          expect(new Set(figures.map((f) => f.consumerGroup)).size).toBe(figures.length)
        },
      ),
    )
  })
})
