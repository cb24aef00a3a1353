import { prometheusMetrics } from '@event-driven/core'
import {
  openEventStore,
  parseApiKeys,
  startAdminServer,
  type ActorNames,
} from '@event-driven/core/admin'
import { dashboardHandler } from '@event-driven/dashboard'
import { MongoClient, type Db } from 'mongodb'
import type { Logger } from 'pino'
import { eventStoreDatabase, type ServiceConfig } from '@event-driven/service-kit'

/** A user id as the users service mints them (`newId`: a UUIDv7). Other actors are not users. */
const userIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * The dashboard's names for actors: a user's "First Last (username)", read from the users
 * service's own collection (the admin part reads stores, as it reads the event store; it asks
 * no service). One equality read by `_id` per user id of the page, side by side: FerretDB
 * filters an equality inside PostgreSQL, where `$in` would fetch every user first. Actors that
 * are not user ids (`timer:…`, `webhook:…`, `migration:…`) are not looked up.
 */
export function userDisplayNames(usersDb: Db): ActorNames {
  const users = usersDb.collection<{
    _id: string
    username: string
    firstName: string
    lastName: string
  }>('users')
  return async (actors) => {
    const found = await Promise.all(
      actors
        .filter((actor) => userIdPattern.test(actor))
        .map((id) =>
          users.findOne({ _id: id }, { projection: { username: 1, firstName: 1, lastName: 1 } }),
        ),
    )
    return new Map(
      found.flatMap((user) =>
        user ? [[user._id, `${user.firstName} ${user.lastName} (${user.username})`]] : [],
      ),
    )
  }
}

/**
 * The dashboard and the admin HTTP API over this system's event store (DLQ, operations, events,
 * consumer groups, and the system's metrics at /api/metrics), on one port. Keys:
 * ADMIN_API_KEYS=name:secret[:read],…; port: ADMIN_PORT (4001); ADMIN_SECURE_COOKIES=1 behind a
 * TLS-terminating proxy.
 */
export async function startAdmin(config: ServiceConfig, logger: Logger) {
  const apiKeys = parseApiKeys(process.env.ADMIN_API_KEYS)
  // One connection for the event store and the users' names.
  const mongo = await new MongoClient(config.mongodbUrl, {
    serverSelectionTimeoutMS: 5_000,
  }).connect()
  // The event store as a tool: no stream is provisioned and no handler runs here.
  const service = await openEventStore({
    nats: config.nats,
    ...(config.signingKey ? { signingKey: config.signingKey } : {}),
    mongodb: mongo,
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
    actorNames: userDisplayNames(mongo.db(`${config.databasePrefix}users`)),
  })
  logger.info({ url: server.url }, 'dashboard and admin API listening')
  return {
    adminUrl: server.url,
    async stop() {
      await server.close()
      await service.close()
      await mongo.close()
    },
  }
}
