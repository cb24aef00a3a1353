import { prometheusMetrics } from '@event-driven/core'
import { openEventStore, parseApiKeys, startAdminServer } from '@event-driven/core/admin'
import { dashboardHandler } from '@event-driven/dashboard'
import type { Logger } from 'pino'
import { eventStoreDatabase, type ServiceConfig } from '@event-driven/service-kit'

/**
 * The dashboard and the admin HTTP API over this system's event store (DLQ, operations, events,
 * consumer groups, and the system's metrics at /api/metrics), on one port. Keys:
 * ADMIN_API_KEYS=name:secret[:read],…; port: ADMIN_PORT (4001); ADMIN_SECURE_COOKIES=1 behind a
 * TLS-terminating proxy.
 */
export async function startAdmin(config: ServiceConfig, logger: Logger) {
  const apiKeys = parseApiKeys(process.env.ADMIN_API_KEYS)
  // The event store as a tool: no stream is provisioned and no handler runs here.
  const service = await openEventStore({
    nats: config.nats,
    ...(config.signingKey ? { signingKey: config.signingKey } : {}),
    mongodb: config.mongodbUrl,
    database: eventStoreDatabase(config),
    stream: config.stream,
  })
  const server = await startAdminServer({
    service,
    apiKeys,
    host: config.host,
    port: Number(process.env.ADMIN_PORT ?? 4001),
    ui: await dashboardHandler(),
    // Behind a proxy that terminates TLS: session cookies are sent over HTTPS only.
    secureCookies: process.env.ADMIN_SECURE_COOKIES === '1',
    logger: logger.child({ service: 'admin' }),
    // The figures of the whole system (pending, in flight, outbox, open DLQ entries and, when the
    // services archive, the archive lag), once: not from every process.
    metrics: prometheusMetrics({ system: service, archiving: config.archive !== undefined }).scrape,
  })
  logger.info({ url: server.url }, 'dashboard and admin API listening')
  return {
    adminUrl: server.url,
    async stop() {
      await server.close()
      await service.close()
    },
  }
}
