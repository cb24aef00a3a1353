// #region
import { openEventStore, parseApiKeys, startAdminServer } from '@event-driven/core/admin'
// The event store as a tool: nothing is provisioned, no handler runs.
const tools = await openEventStore({
  mongodb: process.env.MONGODB_URL!,
  nats: process.env.NATS_URL!,
})
const admin = await startAdminServer({
  service: tools,
  apiKeys: parseApiKeys(process.env.ADMIN_API_KEYS),
  port: 4001,
})
// #endregion
await admin.close()
