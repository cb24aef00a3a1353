import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { BSON, type Db, type Document } from 'mongodb'

/**
 * Records written by release 0.1 (format 1: no `format` field), made by the framework's own code
 * at that commit (`version/fixtures/make-format-1.ts` says how), as Extended JSON.
 */
export interface Format1Fixtures {
  madeBy: string
  collections: Record<string, Document[]>
}

export function format1Fixtures(): Format1Fixtures {
  const text = readFileSync(join(import.meta.dirname, '../version/fixtures/format-1.json'), 'utf8')
  return BSON.EJSON.parse(text, { relaxed: false }) as Format1Fixtures
}

/** Loads every fixture collection into `db`, as it was stored. Returns the documents per collection. */
export async function loadFormat1Fixtures(db: Db): Promise<Record<string, Document[]>> {
  const { collections } = format1Fixtures()
  for (const [name, docs] of Object.entries(collections))
    await db.collection(name).insertMany(docs, { ordered: true })
  return collections
}
