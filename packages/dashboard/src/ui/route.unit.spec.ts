import { describe, expect, it } from 'vitest'
import { dlqEntryHref, hashOf, parseHash } from './route.ts'

describe('the route in the hash', () => {
  it('splits the path into decoded segments, as before', () => {
    expect(parseHash('#/operations/op%201').path).toEqual(['operations', 'op 1'])
    expect(parseHash('#operations').path).toEqual(['operations'])
    expect(parseHash('').path).toEqual([''])
    // A malformed segment typed by hand stays as it is.
    expect(parseHash('#/dlq/%E0%A4%A').path).toEqual(['dlq', '%E0%A4%A'])
    expect(parseHash(dlqEntryHref('a/b?c')).path).toEqual(['dlq', 'a/b?c'])
  })

  it('reads the query after the path', () => {
    const { path, query } = parseHash('#/subjects/User.nameUpdated?window=6h')
    expect(path).toEqual(['subjects', 'User.nameUpdated'])
    expect(query.get('window')).toBe('6h')
    expect(parseHash('#/subjects?window=15m').path).toEqual(['subjects'])
    expect(parseHash('#/subjects').query.get('window')).toBeNull()
  })

  it('writes a hash that reads back the same', () => {
    const hash = hashOf(['subjects', 'Odd?sub/ject'], { window: '24h', none: undefined })
    expect(hash).toBe('#/subjects/Odd%3Fsub%2Fject?window=24h')
    expect(parseHash(hash).path).toEqual(['subjects', 'Odd?sub/ject'])
    expect(parseHash(hash).query.toString()).toBe('window=24h')
    expect(hashOf(['subjects'])).toBe('#/subjects')
  })
})
