import {
  createTestNamespace,
  eventually,
  freePort,
  getTestServers,
  prometheusBinary,
  promtoolCheck,
  runCommand,
  startPrometheus,
  type NodeProcess,
  type PrometheusServer,
} from '@event-driven/testing'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blogEnv, startBlogProcess } from './testing/blog-process.ts'
import { faultEnv } from './testing/faults.ts'
import { registerAndLogin, updateNames } from './testing/flow.ts'

// A real Prometheus (Debian's) scrapes the blog: the probe server's /metrics (the services' and
// the gateway's counters) and the admin server's /api/metrics (the system's figures, with a
// read-only key). The comments author-name handler always fails, so the failure and DLQ counters
// move too; the services archive to S3, so the admin exports the archive lag.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'blog metrics')
const scrapeKey = 'prometheus-scrape-secret'
/** What docker compose's observability profile runs (compose itself cannot run here). */
const observability = join(import.meta.dirname, '../../../infra/observability')
const grafanaDashboard = join(observability, 'grafana/dashboards/event-driven.json')
let blog: NodeProcess | undefined
let prometheus: PrometheusServer | undefined
let probePort: number
let adminPort: number
beforeAll(async () => {
  probePort = await freePort()
  adminPort = await freePort()
  const port = await freePort()
  blog = await startBlogProcess(
    [],
    blogEnv(ns, servers, port, {
      PROBE_PORT: String(probePort),
      ADMIN_PORT: String(adminPort),
      ADMIN_API_KEYS: `prometheus:${scrapeKey}:read`,
      ARCHIVE_BUCKET: ns.bucket,
      S3_URL: servers.s3.endpoint,
      S3_REGION: servers.s3.region,
      S3_ACCESS_KEY_ID: servers.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: servers.s3.secretAccessKey,
      ...faultEnv({
        failingHandler: {
          consumerGroup: 'comments.updateAuthorName',
          message: 'test switch: comments fail to update author names',
        },
      }),
    }),
    ['users, blogs, comments, gateway, admin'],
  )
  const { token } = await registerAndLogin(`http://127.0.0.1:${port}/graphql`, 'ada')
  await updateNames(`http://127.0.0.1:${port}/graphql`, token, 'Ada', 'King')
}, 60_000)
afterAll(async () => {
  await prometheus?.dispose()
  await blog?.stop()
  await ns.cleanup()
})

/** The one value of an instant query (fails while the series is missing). */
async function single(expr: string): Promise<number> {
  const result = await prometheus!.query(expr)
  expect(result, expr).toHaveLength(1)
  return result[0]!.value
}

describe('the blog under a real Prometheus', () => {
  it('its /metrics pass promtool', async () => {
    const response = await fetch(`http://127.0.0.1:${probePort}/metrics`)
    expect(response.status).toBe(200)
    expect(await promtoolCheck(await response.text())).toEqual({ code: 0, output: '' })
  })

  it('scrapes the probe and the admin server; counters and figures arrive', async () => {
    prometheus = await startPrometheus([
      { job: 'blog', targets: [`127.0.0.1:${probePort}`] },
      {
        job: 'admin',
        targets: [`127.0.0.1:${adminPort}`],
        metricsPath: '/api/metrics',
        bearerToken: scrapeKey,
      },
    ])
    await eventually(
      async () => {
        const targets = await prometheus!.targets()
        expect(targets.map((t) => `${t.job}: ${t.health} ${t.lastError}`).sort()).toEqual([
          'admin: up ',
          'blog: up ',
        ])
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    )
    await eventually(
      async () => {
        expect(await single('up{job="blog"}')).toBe(1)
        expect(
          await single(
            'event_driven_deliveries_total{job="blog",consumer_group="blogs.updateAuthorName",subject="User.nameUpdated",outcome="handled"}',
          ),
        ).toBe(1)
        expect(
          await single(
            'event_driven_handler_failures_total{job="blog",consumer_group="comments.updateAuthorName"}',
          ),
        ).toBe(5)
        expect(
          await single(
            'event_driven_deliveries_total{job="blog",consumer_group="comments.updateAuthorName",outcome="dead_lettered"}',
          ),
        ).toBe(1)
        expect(await single('event_driven_system_figures_up{job="admin"}')).toBe(1)
        expect(
          await single(
            'event_driven_consumer_group_pending{job="admin",consumer_group="comments.updateAuthorName"}',
          ),
        ).toBe(0)
        expect(
          await single(
            'event_driven_dlq_open_entries{job="admin",consumer_group="comments.updateAuthorName"}',
          ),
        ).toBe(1)
        expect(
          await single(
            'event_driven_dlq_open_entries{job="admin",consumer_group="blogs.updateAuthorName"}',
          ),
        ).toBe(0)
        // The archiver copies every few seconds: the oldest waiting event is seconds old at most.
        expect(await single('event_driven_archive_lag_seconds{job="admin"}')).toBeLessThan(60)
        expect(
          await single(
            'event_driven_graphql_requests_total{job="blog",operation_type="mutation",root_field="userUpdateNames",outcome="ok"}',
          ),
        ).toBe(1)
        expect(
          await single(
            'event_driven_graphql_request_duration_seconds_count{job="blog",operation_type="mutation",root_field="userRegister"}',
          ),
        ).toBe(1)
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    )
  }, 90_000)

  it('parses every query of the Grafana dashboard, and every metric they read was scraped', async () => {
    const dashboard = JSON.parse(readFileSync(grafanaDashboard, 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[]
    }
    const queries = dashboard.panels.flatMap((panel) => panel.targets.map((t) => t.expr))
    expect(queries.length).toBeGreaterThan(0)
    // Prometheus answers an error (and query() throws) for a query it cannot parse.
    for (const query of queries) await prometheus!.query(query)
    const names = new Set(queries.flatMap((query) => query.match(/\bevent_driven_\w+/g) ?? []))
    for (const name of names)
      expect(await single(`count({__name__="${name}"})`), name).toBeGreaterThan(0)
  })

  it("the compose profile's Prometheus config passes promtool", async () => {
    const checked = await runCommand(prometheusBinary('promtool'), [
      'check',
      'config',
      join(observability, 'prometheus.yml'),
    ])
    expect(checked, checked.stdout + checked.stderr).toMatchObject({ code: 0 })
  })
})
