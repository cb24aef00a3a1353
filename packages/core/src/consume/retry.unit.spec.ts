import { describe, expect, it } from 'vitest'
import { defaultRetryPolicy, retryDelayMs } from './retry.ts'

describe('retry delay', () => {
  const policy = { ...defaultRetryPolicy, baseDelayMs: 1_000, maxDelayMs: 10_000 }

  it('doubles per failure, between half and all of the ceiling', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, policy, () => 0))).toEqual([
      500, 1_000, 2_000, 4_000,
    ])
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, policy, () => 1))).toEqual([
      1_000, 2_000, 4_000, 8_000,
    ])
  })

  it('never exceeds the maximum delay', () => {
    expect(retryDelayMs(20, policy, () => 1)).toBe(10_000)
    expect(retryDelayMs(20, policy, () => 0)).toBe(5_000)
  })
})
