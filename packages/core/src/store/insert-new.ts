import {
  MongoBulkWriteError,
  type Collection,
  type Document,
  type OptionalUnlessRequiredId,
} from 'mongodb'

const duplicateKey = 11000

/**
 * Inserts documents in one round trip, counting "already there" (duplicate `_id`, code 11000) as
 * success. Returns the indexes of documents that failed for another reason; throws when the
 * write failed as a whole (no server, no answer).
 */
export async function insertNew<T extends Document>(
  collection: Collection<T>,
  documents: OptionalUnlessRequiredId<T>[],
): Promise<Set<number>> {
  if (documents.length === 0) return new Set()
  try {
    await collection.insertMany(documents, { ordered: false })
    return new Set()
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw error
    const writeErrors = [error.writeErrors].flat()
    if (writeErrors.length === 0) throw error
    return new Set(writeErrors.filter((e) => e.code !== duplicateKey).map((e) => e.index))
  }
}
