import { describe, expect, it } from 'vitest'
import { nextClaimNumber } from './dlq-alerts.ts'

describe('nextClaimNumber', () => {
  it('is one more than the highest claim of the batch, whatever was removed before it', () => {
    expect(nextClaimNumber([])).toBe(1)
    expect(nextClaimNumber([{ _id: 'e#1#1' }, { _id: 'e#1#2' }])).toBe(3)
    expect(nextClaimNumber([{ _id: 'e#1#4' }])).toBe(5) // #1 to #3 expired
    expect(nextClaimNumber([{ _id: 'e#1#x' }, { _id: 'e#1#2' }])).toBe(3)
  })
})
