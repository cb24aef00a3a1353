import { MongoClient } from 'mongodb'
const c = await new MongoClient(process.env.MONGODB_URL).connect()
const db = c.db('bench_9e5e87_reads_3')
for (const coll of ['events', 'operations', 'processed', 'archive_claims', 'archive_batches']) {
  const s = await db.command({ collStats: coll }).catch(() => ({}))
  console.log(coll, s.count)
}
console.log('archived events', await db.collection('events').countDocuments({ archived: true }))
await c.close()
