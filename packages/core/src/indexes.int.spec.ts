import { createTestNamespace, getTestServers } from '@event-driven/testing'
import { MongoClient, type Document, type Sort } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { productIndexes } from './indexes.ts'
import { eventStore } from './store/event-store.ts'
import { ensureIndexes, indexName, type IndexDeclaration } from './store/indexes.ts'

// Every read the product makes has its index declared beside it (`productIndexes`). Here each
// declaration's query shape is asked to the server's planner with `explain`: on MongoDB the
// plan must use the declared index; on FerretDB the filter must run inside PostgreSQL (or the
// declaration says it scans, and the reads doc says why that is bounded).
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'indexes')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const store = eventStore(mongo.db(ns.database))
const collectionOf = (d: IndexDeclaration) =>
  store.db.collection(store[d.collection].collectionName)
let ferretDb = false

beforeAll(async () => {
  const info = await mongo.db().admin().command({ buildInfo: 1 })
  ferretDb = 'ferretdbVersion' in info || 'ferretdb' in info
  // A document in each collection, so the planner has a table to plan on.
  for (const d of productIndexes) await collectionOf(d).insertOne(sampleDocument(d))
  await ensureIndexes(store, productIndexes)
})
afterAll(async () => {
  await mongo.close()
  await ns.cleanup()
})

/** A value of the type the field holds, for a filter on it. */
function sample(field: string): unknown {
  return /At$/.test(field) ? new Date('2026-01-01T00:00:00Z') : `sample-${field}`
}

function sampleDocument(d: IndexDeclaration): Document {
  const doc: Document = { _id: `doc-${indexName(d.keys)}` }
  for (const field of Object.keys(d.keys).filter((f) => f !== '_id')) {
    const path = field.split('.')
    let at = doc
    for (const part of path.slice(0, -1)) at = (at[part] ??= {}) as Document
    at[path.at(-1)!] = sample(field)
  }
  return doc
}

/** The query the declaration serves: equality on its leading fields, sorted on the rest. */
function explainQuery(d: IndexDeclaration) {
  const fields = Object.entries(d.keys)
  const sortFrom = d.onFerretDb === 'scan' ? fields.findIndex(([f]) => /At$/.test(f)) : -1
  const equal = sortFrom === -1 ? fields : fields.slice(0, sortFrom)
  const sort = sortFrom === -1 ? undefined : (Object.fromEntries(fields.slice(sortFrom)) as Sort)
  const filter = Object.fromEntries(equal.map(([f]) => [f, sample(f)]))
  return { filter, sort }
}

describe('every product read has its index', () => {
  it('declares each index once, with a name MongoDB would give it', () => {
    const names = productIndexes.map((d) => `${d.collection}.${indexName(d.keys)}`)
    expect(new Set(names).size).toBe(names.length)
    expect(indexName({ status: 1, createdAt: -1 })).toBe('status_1_createdAt_-1')
  })

  it('creates the declared indexes, and a second start asks for none', async () => {
    for (const d of productIndexes) {
      const existing = (await collectionOf(d).listIndexes().toArray()) as { name: string }[]
      expect(existing.map((i) => i.name)).toContain(indexName(d.keys))
    }
    const commands: string[] = []
    const watched = new MongoClient(servers.mongodbUrl, { monitorCommands: true })
    watched.on('commandStarted', (event) => commands.push(event.commandName))
    await watched.connect()
    await ensureIndexes(eventStore(watched.db(ns.database)), productIndexes)
    await watched.close()
    expect(commands.filter((c) => c === 'createIndexes')).toEqual([])
  })

  for (const d of productIndexes) {
    it(`${d.collection} { ${Object.keys(d.keys).join(', ')} }: ${d.serves}`, async () => {
      const { filter, sort } = explainQuery(d)
      const cursor = collectionOf(d).find(filter)
      const plan = JSON.stringify(await (sort ? cursor.sort(sort) : cursor).explain())
      if (ferretDb) {
        // FerretDB shows PostgreSQL's plan: a filter it pushed down names each field there, and
        // a sort it left for itself shows no Sort node. What the declaration says must be so.
        const filtered = Object.keys(filter).every((f) => plan.includes(`'${f}'`))
        const sorted = plan.includes('"Sort"')
        const pushedDown = filtered && (sort === undefined || sorted)
        expect(pushedDown ? 'filter' : 'scan', plan).toBe(d.onFerretDb ?? 'filter')
      } else {
        expect(plan).toContain('IXSCAN')
        expect(plan).toContain(indexName(d.keys))
      }
    })
  }
})
