import type { JsMsg } from '@nats-io/jetstream'

/**
 * Keeps a message in flight (`working()`, three times per ack wait) for its whole delivery: the
 * handler, and recording its outcome when MongoDB is slow. Returns the function that stops it.
 * A timer per message: one group-wide Set of messages in flight doubled the peak RSS of draining
 * a backlog (measured: 185 → 330 MB for 100,000 events).
 */
export function keepAlive(msg: Pick<JsMsg, 'working'>, ackWaitMs: number): () => void {
  const timer = setInterval(() => msg.working(), Math.max(50, Math.floor(ackWaitMs / 3)))
  return () => clearInterval(timer)
}
