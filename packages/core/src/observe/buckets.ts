/**
 * Histogram bucket bounds, in seconds, shared by the Prometheus histograms (`prometheus.ts`) and
 * the flow recorder (`flow/`): a step time counted in one is counted in the same bucket by the
 * other, and the bounds are chosen once.
 */

/** Handlers run from milliseconds up to the ack wait (30 s by default). */
export const handlerBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/** A first publish takes milliseconds; one by the relay waited at least its minimum age (10 s). */
export const publishBuckets = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
]

/** A GraphQL request takes milliseconds, up to a service's answer timeout (RPC_TIMEOUT_MS). */
export const graphqlBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/**
 * A step of the flow (from an event's record to a consumer group finishing it, or to the child it
 * emitted being published) includes queueing and every retry: five failures with the default
 * backoff (1 s doubling to 60 s) take about 2 minutes, a redrive from the DLQ hours. So the
 * publish bounds, then 15 minutes and an hour; beyond an hour one bucket holds the rest.
 */
export const stepBuckets = [...publishBuckets, 900, 3600]
