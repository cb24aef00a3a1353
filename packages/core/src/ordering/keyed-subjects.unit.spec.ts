import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  filteredSubject,
  partitionFilter,
  partitionsOf,
  partitionTransform,
  readKeyedSubject,
} from './keyed-subjects.ts'
import { partitionKeyOf, partitionKeyPattern, partitionOf } from './partition-key.ts'

const hostileKey = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ minLength: 1_000, maxLength: 5_000 }),
  fc.constantFrom('', ' ', 'a.b', '*', '>', 'a b', '\u0000', '$k', 'é😀', '_k.3.x'),
)

describe('partition keys', () => {
  it('any key becomes 16 hex characters, the same for the same key', () => {
    fc.assert(
      fc.property(hostileKey, (key) => {
        const token = partitionKeyOf(key)
        expect(token).toMatch(partitionKeyPattern)
        expect(partitionKeyOf(key)).toBe(token)
      }),
    )
  })

  it('falls in [0, partitions) and spreads keys over every partition', () => {
    fc.assert(
      fc.property(hostileKey, fc.integer({ min: 1, max: 1_024 }), (key, n) => {
        const partition = partitionOf(partitionKeyOf(key), n)
        expect(Number.isInteger(partition) && partition >= 0 && partition < n).toBe(true)
      }),
    )
    const counts = new Array<number>(16).fill(0)
    for (let i = 0; i < 1_600; i++) counts[partitionOf(partitionKeyOf(`user-${i}`), 16)]! += 1
    expect(Math.min(...counts)).toBeGreaterThan(60)
    expect(Math.max(...counts)).toBeLessThan(140)
  })

  it('FNV-1a 32 as nats-server computes it', () => {
    // Reference values of FNV-1a 32: "" → 0x811c9dc5, "a" → 0xe40c292c.
    expect(partitionOf('', 2 ** 32 - 1)).toBe(0x811c9dc5 % (2 ** 32 - 1))
    expect(partitionOf('a', 2 ** 32 - 1)).toBe(0xe40c292c % (2 ** 32 - 1))
  })
})

describe('keyed subjects', () => {
  it('a stored keyed subject reads back to its event subject, partition and the subject it was signed on', () => {
    expect(readKeyedSubject('events', 'events._k.7.0123456789abcdef.User.nameUpdated')).toEqual({
      subject: 'User.nameUpdated',
      partition: 7,
      partitionKey: '0123456789abcdef',
      publishedSubject: 'events._k.0123456789abcdef.User.nameUpdated',
    })
  })

  it('anything else is not keyed, and reading never throws', () => {
    for (const subject of [
      'events.User.nameUpdated',
      'events._k.0123456789abcdef.User.nameUpdated', // not transformed: no partition
      'events._k.07.0123456789abcdef.User.nameUpdated',
      'events._k.7.0123456789ABCDEF.User.nameUpdated',
      'events._k.7.0123456789abcdef.User',
      'other._k.7.0123456789abcdef.User.nameUpdated',
    ])
      expect(readKeyedSubject('events', subject)).toBeUndefined()
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (subject) => {
        const read = readKeyedSubject('events', `events._k.${subject}`)
        if (read) expect(read.partitionKey).toMatch(partitionKeyPattern)
      }),
    )
  })

  it('the transform names its partition count, and only the framework transform counts', () => {
    for (const n of [1, 16, 1_024])
      expect(partitionsOf(partitionTransform('events', n), 'events')).toBe(n)
    expect(partitionsOf(undefined, 'events')).toBeUndefined()
    expect(partitionsOf({ src: 'events.>', dest: 'x.>' }, 'events')).toBeUndefined()
    expect(partitionsOf(partitionTransform('other', 16), 'events')).toBeUndefined()
  })

  it("a consumer group's filters read back as its event subject; redrive and parked subjects as none", () => {
    expect(filteredSubject('events', 'events.User.nameUpdated')).toBe('User.nameUpdated')
    expect(filteredSubject('events', partitionFilter('events', 3, 'User.nameUpdated'))).toBe(
      'User.nameUpdated',
    )
    expect(filteredSubject('events', 'events._k.*.*.User.nameUpdated')).toBe('User.nameUpdated')
    expect(filteredSubject('events', 'events._redrive.blogs_onX')).toBeUndefined()
    expect(filteredSubject('events', 'other.User.nameUpdated')).toBeUndefined()
  })
})
