import { createService, prometheusMetrics } from '@event-driven/core'
import { openEventStore, parseApiKeys, startAdminServer } from '@event-driven/core/admin'
import { startProbeServer } from '@event-driven/service-kit'

// What the blocks in the docs assume: the servers' URLs.
const nats = 'nats://127.0.0.1:4222'
const mongodb = 'mongodb://127.0.0.1:27017'

// #region
// A process that runs services: one registry, shared by its services (needs prom-client).
const metrics = prometheusMetrics()
const billing = await createService({ name: 'billing', nats, mongodb, metrics })
const invoicing = await createService({ name: 'invoicing', nats, mongodb, metrics })
await startProbeServer({
  port: 9100,
  checks: [() => billing.health(), () => invoicing.health()],
  metrics: metrics.scrape, // GET /metrics
})

// The admin process: the system's figures, read once for the whole system.
const tools = await openEventStore({ nats, mongodb })
await startAdminServer({
  service: tools,
  apiKeys: parseApiKeys(process.env.ADMIN_API_KEYS), // e.g. prometheus:<secret>:read
  metrics: prometheusMetrics({ system: tools }).scrape, // GET /api/metrics
})
// #endregion
