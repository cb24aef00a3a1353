import { defineEvent } from '@event-driven/core'
import { z } from 'zod'

/** The benchmark's event: a sequence number, when publish() was called, and padding. */
export const BenchEvent = defineEvent({
  subject: 'Bench.measured',
  version: 1,
  schema: z.object({ n: z.number().int(), sentAt: z.number(), padding: z.string() }),
})

/** Data of about `bytes` bytes once serialized. */
export function benchData(
  n: number,
  bytes: number,
  sentAt = performance.timeOrigin + performance.now(),
) {
  const base = JSON.stringify({ n, sentAt, padding: '' }).length
  return { n, sentAt, padding: 'x'.repeat(Math.max(0, bytes - base)) }
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now()
}
