/** How failed deliveries are retried, and when they are given up. */
export interface RetryPolicy {
  /** Failed deliveries before the event moves to the dead letter queue. Default 5. */
  maxFailures: number
  /** Delay before the first retry; each retry doubles it. Default 1 s. */
  baseDelayMs: number
  /** The longest delay. Default 60 s. */
  maxDelayMs: number
}

export const defaultRetryPolicy: RetryPolicy = {
  maxFailures: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
}

/**
 * Exponential backoff with full jitter over the upper half: after failure n the delay is drawn
 * from [d/2, d] where d = min(maxDelay, base * 2^(n-1)), so retries of a burst spread out.
 */
export function retryDelayMs(failures: number, policy: RetryPolicy, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}
