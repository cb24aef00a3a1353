import { stepBuckets } from '../buckets.ts'

/**
 * Step times counted in buckets, and percentiles read back from the counts. Bucket `i` holds
 * the times in (bound `i - 1`, bound `i`] (Prometheus's `le`), the first from 0, the last
 * everything above the top bound. Stored in `flow_stats` as an array of counts by bucket index.
 */

/** The bounds in milliseconds (rounded: 0.025 s × 1000 is not exactly 25 in floating point). */
export const stepBoundsMs: readonly number[] = stepBuckets.map((s) => Math.round(s * 1e6) / 1e3)

/** How many buckets: one per bound, and one above the top. */
export const bucketCount = stepBoundsMs.length + 1

/** The bucket a time falls in; a negative time (a clock step) counts as 0. */
export function bucketOf(ms: number): number {
  let i = 0
  while (i < stepBoundsMs.length && ms > stepBoundsMs[i]!) i++
  return i
}

/** The range of a bucket: `[lower, upper]`; the last bucket's upper is Infinity. */
export function bucketRange(bucket: number): { lower: number; upper: number } {
  return {
    lower: bucket === 0 ? 0 : stepBoundsMs[bucket - 1]!,
    upper: bucket < stepBoundsMs.length ? stepBoundsMs[bucket]! : Number.POSITIVE_INFINITY,
  }
}

/**
 * The `p` quantile (0 < p ≤ 1) of the times counted in `counts`, or null when none was. The
 * rank is the nearest rank, ⌈p·n⌉; within the bucket holding it the times are taken as evenly
 * spread, so the estimate moves linearly from the bucket's lower bound to its upper one. It
 * always lies in the bucket of the true value: its error is at most that bucket's width. Above
 * the top bound nothing is known but "more": the estimate is the top bound.
 */
export function percentile(counts: readonly number[], p: number): number | null {
  let total = 0
  for (const n of counts) total += n
  if (total === 0) return null
  // The small slack keeps 0.95 × 60 = 57.000000000000007 at rank 57.
  const rank = Math.max(1, Math.ceil(p * total - 1e-9))
  let before = 0
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!
    if (n > 0 && before + n >= rank) {
      const { lower, upper } = bucketRange(i)
      if (upper === Number.POSITIVE_INFINITY) return lower
      return lower + ((upper - lower) * (rank - before)) / n
    }
    before += n
  }
  return null
}
