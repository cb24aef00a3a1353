import type { ApiKey } from '@event-driven/core/admin'
import type { Service } from '@event-driven/core'
import type { Collection } from 'mongodb'

// What the block in the docs assumes: a running service, the admin API keys, and the service's
// own users collection.
declare const service: Service
declare const apiKeys: ApiKey[]
declare const users: Collection<{ _id: string; firstName: string; lastName: string }>

// #region
import { startAdminServer } from '@event-driven/core/admin'
import { dashboardHandler } from '@event-driven/dashboard'

await startAdminServer({
  service,
  apiKeys,
  ui: await dashboardHandler(),
  // One read for the page's actors: equality reads side by side (FerretDB filters those in PostgreSQL).
  actorNames: async (actors) => {
    const found = await Promise.all(actors.map((id) => users.findOne({ _id: id })))
    return new Map(found.flatMap((u) => (u ? [[u._id, `${u.firstName} ${u.lastName}`]] : [])))
  },
})
// #endregion
