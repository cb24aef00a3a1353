// The framework migration as its own process (a test kills it midway):
// MONGODB_URL, ED_DATABASE, ED_BATCH_SIZE, ED_LEASE_MS. Prints a line per batch and `done <n>`.
import { connectEventStore } from '../store/event-store.ts'
import { migrateFramework } from '../version/framework-migration.ts'

const { store, close } = await connectEventStore(process.env.MONGODB_URL!, process.env.ED_DATABASE!)
const report = await migrateFramework({
  store,
  batchSize: Number(process.env.ED_BATCH_SIZE ?? 500),
  leaseMs: Number(process.env.ED_LEASE_MS ?? 30_000),
  onProgress: ({ collection, done, total }) => console.log(`moved ${collection} ${done}/${total}`),
})
console.log(report.heldBy ? `held by ${report.heldBy.holder}` : `done ${report.migrated}`)
await close()
