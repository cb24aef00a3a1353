import {
  createTestNamespace,
  eventually,
  getTestServers,
  promtoolCheck,
} from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createArchiver } from '../archive/archiver.ts'
import { defineEvent } from '../event-definition.ts'
import type { Service } from '../service.ts'
import { eventStore, type DlqRecord } from '../store/event-store.ts'
import { testArchiveOptions } from '../testing/archive.ts'
import { createTestService, databaseName, dlqEntryIdOf } from '../testing/test-service.ts'
import { prometheusMetrics, type PrometheusMetrics } from './prometheus.ts'

// The admin-only figures of the DLQ and the archive, read on scrape from the real servers: they
// move as entries open and close and as events wait for the archiver and are copied.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'system figures')
const services: Service[] = []
const clients: MongoClient[] = []
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()))
  await Promise.all(clients.map((c) => c.close()))
  await ns.cleanup()
})

const OrderPlaced = defineEvent({
  subject: 'Order.placed',
  version: 1,
  schema: z.object({ n: z.number() }),
})

async function service(name: string) {
  const created = await createTestService(ns, servers, name, { scope: name })
  services.push(created)
  return created
}

async function publish(svc: Service, count: number): Promise<string[]> {
  const op = await svc.startOperation({ name: 'ordersImport', input: { count } })
  const ids: string[] = []
  for (let n = 0; n < count; n++) ids.push(await op.publish(OrderPlaced, { n }))
  await op.complete()
  return ids
}

/** A series' value in a scrape; undefined when the scrape does not have it. */
async function valueOf(metrics: PrometheusMetrics, series: string): Promise<number | undefined> {
  const { body } = await metrics.scrape()
  const line = body.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('the DLQ and archive figures', () => {
  it('open DLQ entries: a dead letter counts 1 in its consumer group, 0 once resolved; a stored group the stream lacks is other', async () => {
    const svc = await service('dlq')
    svc.on(OrderPlaced, { handler: 'bill' }, async () => {
      throw new Error('billing is down')
    })
    svc.on(OrderPlaced, { handler: 'ship' }, async () => undefined)
    await svc.start()
    const metrics = prometheusMetrics({ system: svc, systemCacheMs: 0 })
    const open = (group: string) =>
      valueOf(metrics, `event_driven_dlq_open_entries{consumer_group="${group}"}`)
    // Every consumer group of the stream shows 0 before any entry: an alert on > 0 has a series.
    expect(await open('dlq.bill')).toBe(0)
    expect(await open('dlq.ship')).toBe(0)

    const [eventId] = await publish(svc, 1)
    const entryId = await dlqEntryIdOf(svc, eventId!, 'dlq.bill')
    expect(await open('dlq.bill')).toBe(1)
    expect(await open('dlq.ship')).toBe(0)
    expect(await open('other')).toBeUndefined()

    // An entry whose stored group no consumer of the stream has: counted, never its own label.
    const forged = 'forged"} 1\nevent_driven_injected{a="'
    const entry = await svc.store.dlq.findOne({ _id: entryId })
    await svc.store.dlq.insertOne({
      ...entry!,
      _id: 'forged-entry',
      consumerGroup: forged,
    } satisfies DlqRecord)
    expect(await open('other')).toBe(1)
    const { body } = await metrics.scrape()
    expect(body).not.toContain('forged')
    expect(body).not.toContain('event_driven_injected')
    expect(await promtoolCheck(body)).toEqual({ code: 0, output: '' })

    expect(await svc.dlq.resolve(entryId, 'test', 'billed by hand')).toMatchObject({ ok: true })
    expect(await open('dlq.bill')).toBe(0)
    expect(await svc.dlq.discard('forged-entry', 'test', 'not ours')).toMatchObject({ ok: true })
    expect(await open('other')).toBeUndefined()
  })

  it('archive lag: absent without archiving; with it, seconds since the oldest waiting event, 0 once copied', async () => {
    const svc = await service('archive')
    await svc.start()
    const notArchiving = prometheusMetrics({ system: svc, systemCacheMs: 0 })
    const archiving = prometheusMetrics({ system: svc, systemCacheMs: 0, archiving: true })
    const lag = (metrics: PrometheusMetrics) => valueOf(metrics, 'event_driven_archive_lag_seconds')

    expect(await lag(archiving)).toBe(0)
    await publish(svc, 5)
    await eventually(async () => expect(await svc.store.events.countDocuments()).toBe(5))
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    const waited = await lag(archiving)
    expect(waited).toBeGreaterThanOrEqual(1.2)
    expect(waited).toBeLessThan(60)
    // Without archiving nothing copies the events: the lag would only grow, so it is not there.
    expect((await notArchiving.scrape()).body).not.toContain('event_driven_archive_lag_seconds')
    expect(await valueOf(notArchiving, 'event_driven_system_figures_up')).toBe(1)

    const archiver = createArchiver({
      store: svc.store,
      archive: testArchiveOptions(servers.s3, `${ns.bucket}-lag`),
      logger: pino({ level: 'silent' }),
    })
    await archiver.runOnce()
    expect(await lag(archiving)).toBe(0)
    expect(await promtoolCheck((await archiving.scrape()).body)).toEqual({ code: 0, output: '' })
  })

  it('scrapes within the cache time read MongoDB once: one DLQ aggregate and one archive find', async () => {
    const svc = await service('cached')
    await svc.start()
    const watched = new MongoClient(servers.mongodbUrl, { monitorCommands: true })
    clients.push(watched)
    const commands: string[] = []
    watched.on('commandStarted', (event) => {
      const collection = String((event.command as Record<string, unknown>)[event.commandName])
      commands.push(`${event.commandName} ${collection}`)
    })
    await watched.connect()
    const store = eventStore(watched.db(databaseName(ns, 'cached')))
    const metrics = prometheusMetrics({
      system: { store, consumerGroups: () => svc.consumerGroups() },
      archiving: true,
    })
    await Promise.all([metrics.scrape(), metrics.scrape()])
    await metrics.scrape()
    expect(commands.filter((c) => !c.startsWith('hello')).sort()).toEqual([
      'aggregate dlq',
      'aggregate outbox', // countDocuments
      'find events',
    ])
  })
})
