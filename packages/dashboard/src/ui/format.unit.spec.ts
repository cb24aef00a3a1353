import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { duration, isoTime, pretty, relativeTime } from './format.ts'

const now = Date.parse('2026-12-01T12:00:00.000Z')
const ago = (ms: number) => new Date(now - ms).toISOString()

describe('relative times', () => {
  it('says how long ago, in the largest unit that fits, rounded down', () => {
    expect(relativeTime(ago(0), now)).toBe('just now')
    expect(relativeTime(ago(4_999), now)).toBe('just now')
    expect(relativeTime(ago(5_000), now)).toBe('5 s ago')
    expect(relativeTime(ago(59_999), now)).toBe('59 s ago')
    expect(relativeTime(ago(60_000), now)).toBe('1 min ago')
    expect(relativeTime(ago(3 * 60_000 + 59_000), now)).toBe('3 min ago')
    expect(relativeTime(ago(3_600_000), now)).toBe('1 h ago')
    expect(relativeTime(ago(23 * 3_600_000 + 3_599_000), now)).toBe('23 h ago')
    expect(relativeTime(ago(86_400_000), now)).toBe('1 d ago')
    expect(relativeTime(ago(400 * 86_400_000), now)).toBe('400 d ago')
  })

  it('never speaks of the future: a time ahead of the clock is "just now"', () => {
    expect(relativeTime(ago(-2_000), now)).toBe('just now')
    expect(relativeTime(ago(-86_400_000), now)).toBe('just now')
  })

  it('takes dates, ISO strings and milliseconds; a time that does not parse is a dash', () => {
    expect(relativeTime(new Date(now - 120_000), now)).toBe('2 min ago')
    expect(relativeTime(now - 120_000, now)).toBe('2 min ago')
    expect(relativeTime('not a time', now)).toBe('—')
  })

  it('gives the absolute time as ISO 8601 in UTC', () => {
    expect(isoTime('2026-12-01T13:00:00+01:00')).toBe('2026-12-01T12:00:00.000Z')
    expect(isoTime(now)).toBe('2026-12-01T12:00:00.000Z')
    expect(isoTime('garbage')).toBe('garbage')
  })

  it('is one of the forms above for any past time', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (ms) => {
        expect(relativeTime(ago(ms), now)).toMatch(/^(just now|\d+ (s|min|h|d) ago)$/)
      }),
    )
  })
})

describe('durations', () => {
  it('prints ms below a second, s below a minute, min below an hour, then h and min', () => {
    expect(duration(0)).toBe('0 ms')
    expect(duration(12.4)).toBe('12 ms')
    expect(duration(999)).toBe('999 ms')
    expect(duration(1_000)).toBe('1 s')
    expect(duration(1_249)).toBe('1.2 s')
    expect(duration(9_960)).toBe('10 s')
    expect(duration(42_400)).toBe('42 s')
    expect(duration(59_600)).toBe('1 min')
    expect(duration(210_000)).toBe('3.5 min')
    expect(duration(45 * 60_000)).toBe('45 min')
    expect(duration(3_599_000)).toBe('1 h')
    expect(duration(2 * 3_600_000 + 5 * 60_000)).toBe('2 h 5 min')
  })

  it('counts a negative duration (two clocks) as 0', () => {
    expect(duration(-40)).toBe('0 ms')
  })

  it('never prints 60 of a unit, nor a unit without a number', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), (ms) => {
        const text = duration(ms)
        expect(text).toMatch(/^(\d+ ms|\d+(\.\d)? (s|min)|\d+ h( \d+ min)?)$/)
        expect(text).not.toMatch(/(^|\D)60 (s|min)/)
      }),
    )
  })
})

describe('payloads', () => {
  it('indents JSON and shows anything else as it came', () => {
    expect(pretty('{"a":1}')).toBe('{\n  "a": 1\n}')
    expect(pretty('{not json')).toBe('{not json')
  })
})
