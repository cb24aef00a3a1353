import { groupCommit } from '../group-commit.ts'
import type { EventStore } from '../store/event-store.ts'
import { insertNew } from '../store/insert-new.ts'
import { storableLabel } from '../store/keys.ts'
import { currentFormat } from '../version/formats.ts'

/**
 * The processed ledger: one entry per (event, consumer group), unique by `_id`. Writes from
 * concurrent deliveries are grouped into one round trip. A check is one `_id` lookup: a
 * grouped `$in` would be one round trip, but FerretDB scans the whole collection for it
 * (measured: 0.8 s at 30,000 entries, against 16 ms for one `_id`), and checks are rare anyway
 * (see `needsLedgerCheck`).
 */
export interface Ledger {
  /** True when the consumer group already finished this delivery key. */
  isProcessed(key: string): Promise<boolean>
  /**
   * Records that the consumer group finished it; an entry already there counts as done. The
   * operation is kept beside the key, so a chain reads its entries by equality.
   */
  markProcessed(key: string, operationId: string, run?: HandlerRunTimes): Promise<void>
  drain(): Promise<void>
}

/** The run that finished a delivery: recorded beside it for the operation's timeline. */
export interface HandlerRunTimes {
  /** JetStream's delivery count of that run. */
  attempt: number
  startedAt: Date
}

/** `expireAfterMs`: retention may remove an entry this long after it is written. */
export function createLedger(store: EventStore, expireAfterMs?: number): Ledger {
  const writes = groupCommit<
    { key: string; operationId: string; run?: HandlerRunTimes },
    undefined
  >(async (entries) => {
    const processedAt = new Date()
    const expireAt =
      expireAfterMs === undefined ? undefined : new Date(processedAt.getTime() + expireAfterMs)
    const { failed } = await insertNew(
      store.processed,
      entries.map(({ key, operationId, run }) => ({
        _id: key,
        format: currentFormat,
        operationId: storableLabel(operationId),
        ...(run ? { attempt: run.attempt, startedAt: run.startedAt } : {}),
        processedAt,
        ...(expireAt ? { expireAt } : {}),
      })),
    )
    return entries.map(({ key }, i) =>
      failed.has(i) ? new Error(`the processed ledger did not take ${key}`) : undefined,
    )
  })
  return {
    isProcessed: async (key) =>
      (await store.processed.findOne({ _id: key }, { projection: { _id: 1 } })) !== null,
    markProcessed: (key, operationId, run) => writes.add({ key, operationId, run }),
    drain: () => writes.drain(),
  }
}
