import { describe, expect, it } from 'vitest'
import { escapeRegex } from './regex.ts'

describe('escapeRegex', () => {
  it('makes a pattern that matches the text literally and nothing else', () => {
    const text = 'a.b*c+d?e^f$g{h}i(j)k|l[m]n\\o'
    const pattern = new RegExp(`^${escapeRegex(text)}$`)
    expect(pattern.test(text)).toBe(true)
    expect(pattern.test(text.replace('.', 'x'))).toBe(false)
  })
})
