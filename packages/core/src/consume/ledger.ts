import { groupCommit } from '../group-commit.ts'
import type { EventStore } from '../store/event-store.ts'
import { insertNew } from '../store/insert-new.ts'

/**
 * The processed ledger: one entry per (event, consumer group), unique by `_id`. Checks and
 * writes from concurrent deliveries are grouped into one round trip each.
 */
export interface Ledger {
  /** True when the consumer group already finished this delivery key. */
  isProcessed(key: string): Promise<boolean>
  /** Records that the consumer group finished it; an entry already there counts as done. */
  markProcessed(key: string): Promise<void>
  drain(): Promise<void>
}

export function createLedger(store: EventStore): Ledger {
  const checks = groupCommit<string, boolean>(async (keys) => {
    const found = await store.processed
      .find({ _id: { $in: [...new Set(keys)] } }, { projection: { _id: 1 } })
      .toArray()
    const done = new Set(found.map((entry) => entry._id))
    return keys.map((key) => done.has(key))
  })
  const writes = groupCommit<string, undefined>(async (keys) => {
    const processedAt = new Date()
    const failed = await insertNew(
      store.processed,
      keys.map((_id) => ({ _id, processedAt })),
    )
    return keys.map((key, i) =>
      failed.has(i) ? new Error(`the processed ledger did not take ${key}`) : undefined,
    )
  })
  return {
    isProcessed: (key) => checks.add(key),
    markProcessed: (key) => writes.add(key),
    drain: async () => {
      await Promise.all([checks.drain(), writes.drain()])
    },
  }
}
