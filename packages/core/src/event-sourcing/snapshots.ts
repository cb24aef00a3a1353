import { currentFormat } from '../version/formats.ts'
import type { EventStore } from '../store/event-store.ts'
import { isDuplicateKey } from '../store/insert-new.ts'
import { streamSnapshotId } from '../store/keys.ts'

/** Folds of long streams start from a snapshot instead of position 1. */
export interface SnapshotOptions {
  /**
   * Names the fold: change it whenever `evolve` or the state's shape changes, and snapshots of
   * the old fold are ignored. Letters, digits and `-_.:`.
   */
  name: string
  /** A read that folded at least this many events past the snapshot takes a new one. Default 100. */
  every?: number
}

const namePattern = /^[\w.:-]{1,100}$/

/**
 * Snapshots: a cache of a fold at a position. Any snapshot is true (a stream's positions never
 * change), so a lost or older one costs only a longer read; one is rewritten only forward.
 */
export function streamSnapshots(store: EventStore) {
  return {
    check({ name, every = 100 }: SnapshotOptions) {
      if (!namePattern.test(name))
        throw new RangeError(`snapshot name ${JSON.stringify(name)}: letters, digits and -_.: only`)
      if (!Number.isSafeInteger(every) || every < 1)
        throw new RangeError(`snapshot every must be a positive integer, got ${every}`)
    },

    async read(stream: string, name: string): Promise<{ position: number; state: unknown } | null> {
      const snapshot = await store.streamSnapshots.findOne(
        { _id: streamSnapshotId(stream, name) },
        { projection: { position: 1, state: 1 } },
      )
      return snapshot && { position: snapshot.position, state: snapshot.state }
    },

    async save(stream: string, name: string, position: number, state: unknown): Promise<void> {
      try {
        await store.streamSnapshots.replaceOne(
          { _id: streamSnapshotId(stream, name), position: { $lt: position } },
          { format: currentFormat, stream, name, position, state, takenAt: new Date() },
          { upsert: true },
        )
      } catch (error) {
        // A snapshot at this position or later is there already.
        if (!isDuplicateKey(error)) throw error
      }
    },
  }
}

export type StreamSnapshots = ReturnType<typeof streamSnapshots>
