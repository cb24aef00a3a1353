import { describe, expect, it } from 'vitest'
import {
  assertReadable,
  currentFormat,
  formatOf,
  FormatError,
  previousFormat,
  unreadableFormat,
} from './formats.ts'

describe('formats', () => {
  it('a record or message without a format is format 1 (written before formats)', () => {
    expect(formatOf(undefined)).toBe(1)
    expect(formatOf(null)).toBe(1)
    expect(formatOf(2)).toBe(2)
  })

  it('the current and the previous format are read; nothing else is', () => {
    expect(previousFormat).toBe(currentFormat - 1)
    expect(unreadableFormat(currentFormat, 'x')).toBeUndefined()
    expect(unreadableFormat(previousFormat, 'x')).toBeUndefined()
    expect(unreadableFormat(currentFormat + 1, 'event e1')).toBe(
      `event e1 is in format ${currentFormat + 1}, written by a newer version of event-driven; this instance reads formats ${previousFormat} and ${currentFormat}: upgrade it (docs/upgrading.md)`,
    )
    expect(unreadableFormat(0, 'event e1')).toMatch(/declares format 0, which is not a format/)
    // The next release reads this format and its own; format 1 then needs the migration.
    expect(unreadableFormat(currentFormat, 'event e1', currentFormat + 1)).toBeUndefined()
    expect(unreadableFormat(1, 'event e1', 3)).toBe(
      'event e1 is in format 1, older than this version reads (2 and 3): run the framework migration first (`event-driven migrate --framework`, docs/upgrading.md)',
    )
    expect(unreadableFormat(1.5, 'event e1')).toMatch(/which is not a format/)
  })

  it('a record in a format this version does not read throws FormatError with the format', () => {
    expect(() => assertReadable({}, 'event e1')).not.toThrow()
    expect(() => assertReadable({ format: currentFormat }, 'event e1')).not.toThrow()
    const thrown = (() => {
      try {
        assertReadable({ format: 9 }, 'event e1')
      } catch (error) {
        return error
      }
    })()
    expect(thrown).toBeInstanceOf(FormatError)
    expect(thrown).toMatchObject({ code: 'format-unsupported', format: 9 })
  })
})
