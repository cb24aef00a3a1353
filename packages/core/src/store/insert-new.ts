import {
  MongoBulkWriteError,
  MongoServerError,
  type Collection,
  type Document,
  type OptionalUnlessRequiredId,
} from 'mongodb'

const duplicateKey = 11000

/** True when a write failed only because a document with that `_id` (or unique key) exists. */
export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === duplicateKey
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
        writeErrors.filter((e) => (e.code === duplicateKey) === duplicate).map((e) => e.index),
      )
    return { failed: indexes(false), existing: indexes(true) }
  }
}
