import {
  MongoBulkWriteError,
  MongoServerError,
  type Collection,
  type Document,
  type OptionalUnlessRequiredId,
} from 'mongodb'
import { MongoCodes } from '../server-codes.ts'

/**
 * True when a write failed only because a document with that `_id` (or unique key) exists: for
 * a bulk write, when every document it refused was refused for that.
 */
export function isDuplicateKey(error: unknown): boolean {
  if (error instanceof MongoBulkWriteError) {
    const writeErrors = [error.writeErrors].flat()
    return writeErrors.length > 0 && writeErrors.every((e) => e.code === MongoCodes.DuplicateKey)
  }
  return error instanceof MongoServerError && error.code === MongoCodes.DuplicateKey
}

/**
 * Inserts documents in one round trip, counting "already there" (duplicate `_id`, code 11000) as
 * success. Returns the indexes of documents that were there already, and of those that failed
 * for another reason; throws when the write failed as a whole (no server, no answer).
 */
export async function insertNew<T extends Document>(
  collection: Collection<T>,
  documents: OptionalUnlessRequiredId<T>[],
): Promise<{ failed: Set<number>; existing: Set<number> }> {
  const none = { failed: new Set<number>(), existing: new Set<number>() }
  if (documents.length === 0) return none
  try {
    await collection.insertMany(documents, { ordered: false })
    return none
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw error
    const writeErrors = [error.writeErrors].flat()
    if (writeErrors.length === 0) throw error
    const indexes = (duplicate: boolean) =>
      new Set(
        writeErrors
          .filter((e) => (e.code === MongoCodes.DuplicateKey) === duplicate)
          .map((e) => e.index),
      )
    return { failed: indexes(false), existing: indexes(true) }
  }
}
