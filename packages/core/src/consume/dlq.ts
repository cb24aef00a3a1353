import type { AttemptError, DlqRecord, EventStore } from '../store/event-store.ts'
import type { RawDelivery } from '../publish/wire.ts'

export interface DeadLetter {
  key: string
  delivery: RawDelivery
  consumerGroup: string
  service: string
  handler: string
  reason: string
  attempts: AttemptError[]
  stream: string
  streamSequence: number
}

/**
 * Records a DLQ entry with the payload, headers and every attempt's error. One entry per
 * (event, consumer group): an event that fails again after a redrive updates its entry.
 */
/** Returns the entry's cycle: 1 the first time, one more each time it opens again. */
export async function recordDeadLetter(store: EventStore, letter: DeadLetter): Promise<number> {
  const { delivery } = letter
  const entry: Omit<DlqRecord, '_id' | 'createdAt' | 'cycle' | 'history'> = {
    eventId: delivery.eventId,
    consumerGroup: letter.consumerGroup,
    service: letter.service,
    handler: letter.handler,
    subject: delivery.subject,
    ...(delivery.version !== undefined && Number.isFinite(delivery.version)
      ? { version: delivery.version }
      : {}),
    ...(delivery.operationId ? { operationId: delivery.operationId } : {}),
    ...(delivery.parentId ? { parentId: delivery.parentId } : {}),
    payload: delivery.body,
    headers: delivery.headers,
    reason: letter.reason,
    attempts: letter.attempts,
    status: 'open',
    stream: letter.stream,
    streamSequence: letter.streamSequence,
  }
  const recorded = await store.dlq.findOneAndUpdate(
    { _id: letter.key },
    { $set: entry, $inc: { cycle: 1 }, $setOnInsert: { createdAt: new Date() } },
    { upsert: true, returnDocument: 'after' },
  )
  return recorded?.cycle ?? 1
}
