import { MongoServerError, type Collection, type Document, type IndexDirection } from 'mongodb'
import { MongoCodes } from '../server-codes.ts'
import type { EventStore } from './event-store.ts'

/** A collection of the event store, by its field name in `EventStore`. */
export type StoreCollection = Exclude<keyof EventStore, 'db'>

/**
 * An index a query needs on MongoDB, declared beside that query (`chainIndexes`,
 * `operationListIndexes`, …) so the two change together. `ensureIndexes` creates them all.
 */
export interface IndexDeclaration {
  collection: StoreCollection
  keys: Record<string, IndexDirection>
  /** The read it serves, for people and for the test that checks it (`indexes.int.spec.ts`). */
  serves: string
  /**
   * How FerretDB (PostgreSQL) answers it: `filter` when it filters inside PostgreSQL (cost grows
   * with the collection, but gently), `scan` when it fetches every document first (a sort or a
   * range: only a bounded collection keeps it fast). Checked by the same test.
   */
  onFerretDb?: 'filter' | 'scan'
}

/** The name MongoDB would give the index (`operationId_1`), so existing ones are recognised. */
export function indexName(keys: IndexDeclaration['keys']): string {
  return Object.entries(keys)
    .map(([field, direction]) => `${field}_${String(direction)}`)
    .join('_')
}

/**
 * Creates the declared indexes that are missing. Each collection's indexes are listed first, so
 * a restart over grown collections asks the server for nothing it already has (creating an
 * index that exists is not free on every server: FerretDB checks it against the table).
 */
export async function ensureIndexes(
  store: EventStore,
  declarations: readonly IndexDeclaration[],
): Promise<void> {
  const byCollection = new Map<StoreCollection, IndexDeclaration[]>()
  for (const d of declarations)
    byCollection.set(d.collection, [...(byCollection.get(d.collection) ?? []), d])
  // One collection at a time: instances starting together all create indexes, and FerretDB
  // has dropped connections under many concurrent index builds (seen in CI).
  for (const [name, wanted] of byCollection) {
    const collection = store[name] as unknown as Collection<Document>
    await withRetries(async () => {
      const existing = new Set(await existingIndexNames(collection))
      const missing = wanted.filter((d) => !existing.has(indexName(d.keys)))
      if (missing.length === 0) return
      await collection.createIndexes(missing.map((d) => ({ key: d.keys, name: indexName(d.keys) })))
    })
  }
}

/** Three tries, 200 ms apart: another instance may be creating the same index right now. */
async function withRetries(work: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      if (attempt >= 3) throw error
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt))
    }
  }
}

async function existingIndexNames(collection: Collection<Document>): Promise<string[]> {
  try {
    const indexes = (await collection.listIndexes().toArray()) as { name: string }[]
    return indexes.map((index) => index.name)
  } catch (error) {
    // A collection not written yet has no indexes; creating them creates it.
    if (error instanceof MongoServerError && error.code === MongoCodes.NamespaceNotFound) return []
    throw error
  }
}
