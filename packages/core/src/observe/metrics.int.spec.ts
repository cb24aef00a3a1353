import {
  createTestNamespace,
  eventually,
  getTestServers,
  promtoolCheck,
} from '@event-driven/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { startAdminServer } from '../admin/server.ts'
import { defineEvent } from '../event-definition.ts'
import type { Service, ServiceOptions } from '../service.ts'
import type { EventRecord } from '../store/event-store.ts'
import { createTestService, dlqEntryIdOf } from '../testing/test-service.ts'
import { prometheusMetrics, type PrometheusMetrics } from './prometheus.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'metrics')
const services: Service[] = []
const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  await Promise.all(closers.map((close) => close()))
  await Promise.all(services.map((s) => s.stop()))
  await ns.cleanup()
})

const PostPublished = defineEvent({
  subject: 'Post.published',
  version: 1,
  schema: z.object({ postId: z.string() }),
})

/** Each test's service gets a stream and a database of its own (scope = its name). */
async function service(name: string, overrides: Partial<ServiceOptions> = {}) {
  const created = await createTestService(ns, servers, name, { scope: name, ...overrides })
  services.push(created)
  return created
}

async function publishPosts(svc: Service, count: number) {
  for (let i = 0; i < count; i++) {
    const op = await svc.startOperation({ name: 'postPublish', input: { i } })
    await op.publish(PostPublished, { postId: `p${i}` })
  }
}

/** The value of one series in a scrape (0 when the series is not there yet). */
async function valueOf(metrics: PrometheusMetrics, series: string): Promise<number> {
  const { body } = await metrics.scrape()
  const line = body.split('\n').find((l) => l.startsWith(`${series} `))
  return line ? Number(line.slice(series.length + 1)) : 0
}

describe('Prometheus metrics of a running service', () => {
  it('an observer that throws changes nothing: publishes succeed, each event is handled once', async () => {
    const broken = () => {
      throw new Error('observer broke')
    }
    const svc = await service('observer-throws', {
      metrics: { handlerRan: broken, delivered: broken, published: broken },
    })
    const handled: string[] = []
    svc.on(PostPublished, { handler: 'index' }, async (event) => void handled.push(event.id))
    await svc.start()
    await publishPosts(svc, 3)
    await eventually(() => expect(handled).toHaveLength(3))
    // No redelivery comes after the acks: each id once, and nothing waits in the group.
    await eventually(async () => {
      const [group] = await svc.consumerGroups()
      expect(group).toMatchObject({ pending: 0, inFlight: 0 })
    })
    expect(new Set(handled).size).toBe(3)
    expect(handled).toHaveLength(3)
  })

  it('count N published and N handled events; promtool parses the text', async () => {
    const metrics = prometheusMetrics({ processMetrics: true })
    const svc = await service('counted', { metrics })
    svc.on(PostPublished, { handler: 'index' }, async () => undefined)
    await svc.start()
    await publishPosts(svc, 10)

    await eventually(async () =>
      expect(
        await valueOf(
          metrics,
          'event_driven_deliveries_total{consumer_group="counted.index",subject="Post.published",outcome="handled"}',
        ),
      ).toBe(10),
    )
    expect(
      await valueOf(
        metrics,
        'event_driven_events_published_total{subject="Post.published",via="publish"}',
      ),
    ).toBe(10)
    expect(
      await valueOf(
        metrics,
        'event_driven_handler_duration_seconds_count{consumer_group="counted.index"}',
      ),
    ).toBe(10)
    expect(
      await valueOf(metrics, 'event_driven_publish_latency_seconds_count{via="publish"}'),
    ).toBe(10)
    const { body } = await metrics.scrape()
    expect(body).toContain('process_cpu_user_seconds_total')
    // Parsed (exit 3 is lint only, 1 would be a parse error). The lint's only complaint is about
    // three of prom-client's own process metrics (gauges named `_total`), never about ours.
    const verdict = await promtoolCheck(body)
    expect([0, 3]).toContain(verdict.code)
    const problems = verdict.output ? verdict.output.split('\n') : []
    expect(problems.filter((line) => !/^nodejs_\w+_total /.test(line))).toEqual([])
  })

  it('a failing handler: 5 failures, 4 retries, one dead letter; its redrive is counted and handled', async () => {
    const metrics = prometheusMetrics()
    const svc = await service('failing', { metrics })
    let failing = true
    svc.on(PostPublished, { handler: 'index' }, async () => {
      if (failing) throw new Error('search is down')
    })
    await svc.start()
    const op = await svc.startOperation({ name: 'postPublish', input: {} })
    const eventId = await op.publish(PostPublished, { postId: 'p1' })
    const series = (name: string, outcome?: string) =>
      `${name}{consumer_group="failing.index",subject="Post.published"${outcome ? `,outcome="${outcome}"` : ''}}`

    await eventually(async () =>
      expect(await valueOf(metrics, series('event_driven_deliveries_total', 'dead_lettered'))).toBe(
        1,
      ),
    )
    expect(await valueOf(metrics, series('event_driven_handler_failures_total'))).toBe(5)
    expect(await valueOf(metrics, series('event_driven_deliveries_total', 'retried'))).toBe(4)
    expect(await valueOf(metrics, series('event_driven_deliveries_total', 'handled'))).toBe(0)

    failing = false
    const entryId = await dlqEntryIdOf(svc, eventId, 'failing.index')
    expect(await svc.dlq.redrive(entryId, 'test')).toMatchObject({ ok: true })
    await eventually(async () =>
      expect(await valueOf(metrics, series('event_driven_deliveries_total', 'handled'))).toBe(1),
    )
    expect(
      await valueOf(metrics, 'event_driven_redrives_total{consumer_group="failing.index"}'),
    ).toBe(1)
    expect(await promtoolCheck((await metrics.scrape()).body)).toEqual({ code: 0, output: '' })
  })

  it('the admin server serves the system figures (pending, in flight, outbox) behind its credentials', async () => {
    // The relay leaves the held event alone for the length of the test.
    const svc = await service('figures', { relay: { intervalMs: 100, minAgeMs: 600_000 } })
    let release: () => void = () => undefined
    const released = new Promise<void>((resolve) => (release = resolve))
    svc.on(PostPublished, { handler: 'slow', concurrency: 1 }, () => released)
    await svc.start()
    closers.push(async () => release())
    await publishPosts(svc, 3)
    await svc.store.outbox.insertOne({
      _id: 'held-by-a-crash',
      subject: 'Post.published',
      version: 1,
      data: { postId: 'held' },
      operationId: 'op-held',
      parentId: 'op-held',
      createdAt: new Date(),
    } as EventRecord)

    const admin = await startAdminServer({
      service: svc,
      apiKeys: [{ name: 'prometheus', secret: 'scrape-secret', role: 'read' }],
      metrics: prometheusMetrics({ system: svc, systemCacheMs: 0 }).scrape,
    })
    closers.push(() => admin.close())
    const scrape = (headers: Record<string, string> = {}, method = 'GET') =>
      fetch(`${admin.url}/api/metrics`, { method, headers })

    expect((await scrape()).status).toBe(401)
    expect((await scrape({ authorization: 'Bearer wrong' })).status).toBe(401)
    expect((await scrape({ authorization: 'Bearer scrape-secret' }, 'POST')).status).toBe(404)
    const body = await eventually(async () => {
      const response = await scrape({ authorization: 'Bearer scrape-secret' })
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
      const text = await response.text()
      const figure = (name: string) =>
        Number(
          new RegExp(`^${name}\\{consumer_group="figures\\.slow"\\} (\\d+)$`, 'm').exec(text)?.[1],
        )
      // The first is held by its handler; how many of the others the client pulled ahead varies.
      expect(figure('event_driven_consumer_group_in_flight')).toBeGreaterThanOrEqual(1)
      expect(
        figure('event_driven_consumer_group_in_flight') +
          figure('event_driven_consumer_group_pending'),
      ).toBe(3)
      return text
    })
    expect(body).toContain('event_driven_outbox_unpublished_events 1\n')
    expect(body).toContain('event_driven_system_figures_up 1\n')
    expect(await promtoolCheck(body)).toEqual({ code: 0, output: '' })
  })
})
