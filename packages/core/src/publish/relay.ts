import type { Logger } from 'pino'
import type { EventStore } from '../store/event-store.ts'
import type { IndexDeclaration } from '../store/indexes.ts'
import { runEvery } from '../periodic.ts'
import type { Outbox } from './outbox.ts'

/** The relay's read: the outbox's oldest events (the outbox empties as events are published). */
export const relayIndexes: readonly IndexDeclaration[] = [
  {
    collection: 'outbox',
    keys: { createdAt: 1 },
    serves: 'the relay: oldest unpublished events',
    onFerretDb: 'scan',
  },
]

export interface RelayOptions {
  store: EventStore
  outbox: Outbox
  /** How often to look. */
  intervalMs: number
  /** Leave younger events to the publish that recorded them. */
  minAgeMs: number
  batchSize?: number
  /** Finishes and settles this service's state changes (`state/settle.ts`). */
  settleChanges: () => Promise<void>
  logger: Logger
}

/**
 * Republishes events a crash (or an outage) left in the outbox, and has this service's state
 * changes finished and settled. Runs in every instance: two
 * relays publishing the same event are harmless (`Nats-Msg-Id` deduplicates, the move ignores
 * events already moved). Returns a stop function.
 */
export function startRelay({
  store,
  outbox,
  intervalMs,
  minAgeMs,
  batchSize = 500,
  settleChanges,
  logger,
}: RelayOptions) {
  const relayOnce = async () => {
    await settleChanges()
    // State changes are left to their own service's settling: they never crowd events out here.
    const events = await store.outbox
      .find({ createdAt: { $lt: new Date(Date.now() - minAgeMs) }, change: { $exists: false } })
      .sort({ createdAt: 1 })
      .limit(batchSize)
      .toArray()
    if (events.length === 0) return
    // Marked, so consumer groups check their ledger: the first publish may have gone through.
    const results = await outbox.publishRecorded(events, 'relay')
    const failed = results.filter((r) => r instanceof Error)
    logger.info(
      { relayed: events.length - failed.length, failed: failed.length },
      'relay published events left in the outbox',
    )
    if (failed.length > 0)
      logger.warn(
        { failed: failed.length, reasons: [...new Set(failed.map((e) => e.message))].slice(0, 5) },
        'the relay could not publish some events: they stay in the outbox and are tried again',
      )
  }

  return runEvery(intervalMs, relayOnce, (error) =>
    logger.warn({ err: error }, 'relay could not read the outbox; trying again'),
  )
}
