import { createService, parseApiKeys, startAdminServer } from '@event-driven/core'
import type { Logger } from 'pino'
import type { ServiceConfig } from '@event-driven/service-kit'

/**
 * The admin HTTP API over this system's event store (DLQ, operations, events, consumer groups),
 * for operators and the dashboard. Keys: ADMIN_API_KEYS=name:secret,…; port: ADMIN_PORT (4001).
 */
export async function startAdmin(config: ServiceConfig, logger: Logger) {
  const apiKeys = parseApiKeys(process.env.ADMIN_API_KEYS)
  const service = await createService({
    name: 'admin',
    nats: config.natsUrl,
    mongodb: config.mongodbUrl,
    database: `${config.databasePrefix}event_driven`,
    stream: config.stream,
    logger: logger.child({ service: 'admin' }),
    stopOnSignals: false,
  })
  const server = await startAdminServer({
    service,
    apiKeys,
    host: config.host,
    port: Number(process.env.ADMIN_PORT ?? 4001),
  })
  logger.info({ url: `${server.url}/api/openapi.json` }, 'admin API listening')
  return {
    adminUrl: server.url,
    async stop() {
      await server.close()
      await service.stop()
    },
  }
}
