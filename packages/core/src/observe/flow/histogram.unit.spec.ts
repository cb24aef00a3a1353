import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { handlerBuckets, publishBuckets, stepBuckets } from '../buckets.ts'
import { bucketCount, bucketOf, bucketRange, percentile, stepBoundsMs } from './histogram.ts'

/** The exact nearest-rank percentile of a sample: the ⌈p·n⌉-th smallest value. */
function exactPercentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.max(1, Math.ceil(p * sorted.length - 1e-9)) - 1]!
}

function countsOf(samples: readonly number[]): number[] {
  const counts = Array.from({ length: bucketCount }, () => 0)
  for (const ms of samples) counts[bucketOf(ms)]!++
  return counts
}

/** Step times as they come: mostly milliseconds, some seconds, a few minutes or hours. */
const stepTime = fc.oneof(
  fc.double({ min: 0, max: 50, noNaN: true }),
  fc.double({ min: 0, max: 120_000, noNaN: true }),
  fc.double({ min: 0, max: 10_000_000, noNaN: true }),
  fc.constantFrom(...stepBoundsMs),
)

describe('step time buckets', () => {
  it('extend the Prometheus bounds they share to an hour, in ms', () => {
    expect(stepBuckets.slice(0, publishBuckets.length)).toEqual(publishBuckets)
    expect(stepBoundsMs.at(-1)).toBe(3_600_000)
    expect(stepBoundsMs.slice(0, 4)).toEqual([1, 2.5, 5, 10])
    // Prometheus's handler bounds are unchanged (their metric names and bounds stay).
    expect(handlerBuckets.at(-1)).toBe(60)
  })

  it('put a time on its upper bound in that bucket (le), and above every bound in the last', () => {
    expect(bucketOf(1)).toBe(0)
    expect(bucketOf(1.0001)).toBe(1)
    expect(bucketOf(-5)).toBe(0)
    expect(bucketOf(3_600_000)).toBe(bucketCount - 2)
    expect(bucketOf(3_600_001)).toBe(bucketCount - 1)
    fc.assert(
      fc.property(stepTime, (ms) => {
        const { lower, upper } = bucketRange(bucketOf(ms))
        expect(ms === 0 || ms > lower).toBe(true)
        expect(ms).toBeLessThanOrEqual(upper)
      }),
    )
  })
})

describe('percentiles from buckets', () => {
  it('are null without a count', () => {
    expect(
      percentile(
        Array.from({ length: bucketCount }, () => 0),
        0.5,
      ),
    ).toBeNull()
  })

  it("lie in the true percentile's bucket, for random samples and quantiles", () => {
    fc.assert(
      fc.property(
        fc.array(stepTime, { minLength: 1, maxLength: 300 }),
        fc.constantFrom(0.5, 0.95, 0.99, 0.01, 1),
        (samples, p) => {
          const estimate = percentile(countsOf(samples), p)!
          const exact = exactPercentile(samples, p)
          const { lower, upper } = bucketRange(bucketOf(exact))
          expect(estimate).toBeGreaterThanOrEqual(lower)
          // Above the top bound the estimate is the top bound: all that is known is "more".
          expect(estimate).toBeLessThanOrEqual(upper === Infinity ? lower : upper)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('interpolate within the bucket by rank', () => {
    const counts = Array.from({ length: bucketCount }, () => 0)
    // Four times in (100, 250] ms: the median is the 2nd, half way through the bucket.
    counts[bucketOf(200)] = 4
    expect(bucketRange(bucketOf(200))).toEqual({ lower: 100, upper: 250 })
    expect(percentile(counts, 0.5)).toBe(175)
    expect(percentile(counts, 1)).toBe(250)
  })

  it('keep p50 ≤ p95', () => {
    fc.assert(
      fc.property(fc.array(stepTime, { minLength: 1, maxLength: 100 }), (samples) => {
        const counts = countsOf(samples)
        expect(percentile(counts, 0.5)!).toBeLessThanOrEqual(percentile(counts, 0.95)!)
      }),
    )
  })
})
