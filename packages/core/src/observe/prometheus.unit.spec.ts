import { describe, expect, it } from 'vitest'
import type { ConsumerGroupInfo } from '../consume/group-info.ts'
import { prometheusMetrics } from './prometheus.ts'
import type { SystemSource } from './system-figures.ts'

/** The sample lines of one metric (name, or name with a suffix such as `_bucket`). */
function samples(body: string, name: string): string[] {
  return body
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
}

/** A source whose reads are counted; `fail` makes the next reads reject. */
function fakeSource(
  groups: Partial<ConsumerGroupInfo>[],
  unpublished: number,
  {
    openEntries = [] as { _id: unknown; open: number }[],
    oldestWaiting = null as Date | null,
  } = {},
) {
  const counts = { groups: 0, outbox: 0, dlq: 0, events: 0 }
  let fail = false
  const source = {
    consumerGroups: async () => {
      counts.groups++
      if (fail) throw new Error('JetStream does not answer')
      return groups as ConsumerGroupInfo[]
    },
    store: {
      outbox: {
        countDocuments: async (filter: unknown, options: unknown) => {
          counts.outbox++
          expect(filter).toEqual({ publishedAt: { $exists: false } })
          expect(options).toEqual({ limit: 100_000 })
          return unpublished
        },
      },
      dlq: {
        aggregate: () => ({
          toArray: async () => {
            counts.dlq++
            return openEntries
          },
        }),
      },
      events: {
        find: (filter: unknown) => {
          expect(filter).toEqual({ archived: false })
          const cursor = {
            limit: (limit: number) => {
              expect(limit).toBe(1_000)
              return cursor
            },
            toArray: async () => {
              counts.events++
              // Unsorted, as a server may give them: the oldest is not first.
              return oldestWaiting ? [{ createdAt: new Date() }, { createdAt: oldestWaiting }] : []
            },
          }
          return cursor
        },
      },
    },
  } as unknown as SystemSource
  return { source, counts, failing: (value: boolean) => (fail = value) }
}

describe('prometheusMetrics', () => {
  it('counts deliveries by consumer group, subject and outcome, failures, redrives, durations', async () => {
    const metrics = prometheusMetrics()
    const run = { consumerGroup: 'blogs.index', subject: 'Blog.created', attempt: 1 }
    metrics.handlerRan({ ...run, durationMs: 20, failed: false })
    metrics.handlerRan({ ...run, durationMs: 3_000, failed: true, attempt: 2 })
    metrics.handlerRan({ ...run, durationMs: 5, failed: false, redelivery: 'redrive' })
    // A redrive that failed once and came again is one redrive.
    metrics.handlerRan({ ...run, durationMs: 5, failed: false, redelivery: 'redrive', attempt: 2 })
    for (const outcome of ['handled', 'handled', 'retried', 'dead_lettered'] as const)
      metrics.delivered({ ...run, outcome })
    metrics.delivered({ ...run, subject: 'other', outcome: 'dead_lettered' })

    const { contentType, body } = await metrics.scrape()
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(samples(body, 'event_driven_deliveries_total').sort()).toEqual([
      'event_driven_deliveries_total{consumer_group="blogs.index",subject="Blog.created",outcome="dead_lettered"} 1',
      'event_driven_deliveries_total{consumer_group="blogs.index",subject="Blog.created",outcome="handled"} 2',
      'event_driven_deliveries_total{consumer_group="blogs.index",subject="Blog.created",outcome="retried"} 1',
      'event_driven_deliveries_total{consumer_group="blogs.index",subject="other",outcome="dead_lettered"} 1',
    ])
    expect(samples(body, 'event_driven_handler_failures_total')).toEqual([
      'event_driven_handler_failures_total{consumer_group="blogs.index",subject="Blog.created"} 1',
    ])
    expect(samples(body, 'event_driven_redrives_total')).toEqual([
      'event_driven_redrives_total{consumer_group="blogs.index"} 1',
    ])
    expect(samples(body, 'event_driven_handler_duration_seconds_count')).toEqual([
      'event_driven_handler_duration_seconds_count{consumer_group="blogs.index"} 4',
    ])
    expect(body).toContain(
      'event_driven_handler_duration_seconds_bucket{le="0.025",consumer_group="blogs.index"} 3',
    )
    expect(body).toContain(
      'event_driven_handler_duration_seconds_bucket{le="2.5",consumer_group="blogs.index"} 3',
    )
  })

  it('counts published events by subject and way; latency in seconds by way', async () => {
    const metrics = prometheusMetrics()
    metrics.published({ subject: 'Blog.created', via: 'publish', latencyMs: 4 })
    metrics.published({ subject: 'Blog.created', via: 'relay', latencyMs: 12_000 })
    metrics.published({ subject: 'Blog.created', via: 'publish', latencyMs: -3 })
    const { body } = await metrics.scrape()
    expect(samples(body, 'event_driven_events_published_total').sort()).toEqual([
      'event_driven_events_published_total{subject="Blog.created",via="publish"} 2',
      'event_driven_events_published_total{subject="Blog.created",via="relay"} 1',
    ])
    // The negative latency (a clock step) is not a sample.
    expect(samples(body, 'event_driven_publish_latency_seconds_count').sort()).toEqual([
      'event_driven_publish_latency_seconds_count{via="publish"} 1',
      'event_driven_publish_latency_seconds_count{via="relay"} 1',
    ])
    expect(body).toContain('event_driven_publish_latency_seconds_sum{via="relay"} 12')
  })

  it('has no system gauges without a source, and one registry per call', async () => {
    const first = prometheusMetrics()
    first.delivered({
      consumerGroup: 'a.b',
      subject: 'A.done',
      outcome: 'handled',
      attempt: 1,
    })
    const { body } = await prometheusMetrics().scrape()
    expect(body).not.toContain('event_driven_consumer_group_pending')
    expect(samples(body, 'event_driven_deliveries_total')).toEqual([])
  })

  it('reads pending, in flight and the outbox backlog on scrape, once per cache period', async () => {
    const { source, counts } = fakeSource(
      [
        { durable: 'blogs_updateAuthorName', pending: 7, inFlight: 2 },
        { durable: 'comments_updateAuthorName', pending: 0, inFlight: 1 },
      ],
      42,
    )
    const metrics = prometheusMetrics({ system: source, systemCacheMs: 60_000 })
    const [{ body }] = await Promise.all([metrics.scrape(), metrics.scrape()])
    await metrics.scrape()
    expect(counts).toEqual({ groups: 1, outbox: 1, dlq: 1, events: 0 })
    expect(samples(body, 'event_driven_consumer_group_pending')).toEqual([
      'event_driven_consumer_group_pending{consumer_group="blogs.updateAuthorName"} 7',
      'event_driven_consumer_group_pending{consumer_group="comments.updateAuthorName"} 0',
    ])
    expect(samples(body, 'event_driven_consumer_group_in_flight')).toEqual([
      'event_driven_consumer_group_in_flight{consumer_group="blogs.updateAuthorName"} 2',
      'event_driven_consumer_group_in_flight{consumer_group="comments.updateAuthorName"} 1',
    ])
    expect(samples(body, 'event_driven_outbox_unpublished_events')).toEqual([
      'event_driven_outbox_unpublished_events 42',
    ])
    expect(samples(body, 'event_driven_system_figures_up')).toEqual([
      'event_driven_system_figures_up 1',
    ])
  })

  it('open DLQ entries by consumer group, unknown stored groups as other; the archive lag only when archiving', async () => {
    const oldestWaiting = new Date(Date.now() - 90_000)
    const groups = [
      { durable: 'blogs_index', pending: 0, inFlight: 0 },
      { durable: 'comments_notify', pending: 0, inFlight: 0 },
    ]
    const openEntries = [
      { _id: 'blogs.index', open: 2 },
      { _id: 'removed.handler', open: 1 },
      { _id: 'x"} 1\ninjected{', open: 1 },
    ]
    const archiving = fakeSource(groups, 0, { openEntries, oldestWaiting })
    const metrics = prometheusMetrics({ system: archiving.source, archiving: true })
    const { body } = await metrics.scrape()
    expect(samples(body, 'event_driven_dlq_open_entries')).toEqual([
      'event_driven_dlq_open_entries{consumer_group="blogs.index"} 2',
      'event_driven_dlq_open_entries{consumer_group="comments.notify"} 0',
      'event_driven_dlq_open_entries{consumer_group="other"} 2',
    ])
    const [lag] = samples(body, 'event_driven_archive_lag_seconds')
    expect(Number(lag!.split(' ')[1])).toBeGreaterThanOrEqual(90)
    expect(Number(lag!.split(' ')[1])).toBeLessThan(100)
    expect(archiving.counts).toMatchObject({ dlq: 1, events: 1 })

    const nothingWaits = fakeSource(groups, 0)
    const caughtUp = prometheusMetrics({ system: nothingWaits.source, archiving: true })
    expect(samples((await caughtUp.scrape()).body, 'event_driven_archive_lag_seconds')).toEqual([
      'event_driven_archive_lag_seconds 0',
    ])

    const notArchiving = fakeSource(groups, 0, { oldestWaiting })
    const without = await prometheusMetrics({ system: notArchiving.source }).scrape()
    expect(without.body).not.toContain('event_driven_archive_lag_seconds')
    expect(notArchiving.counts.events).toBe(0)
  })

  it('a failed read: no figures (NaN for the outbox), up 0; it is not reused: the next scrape reads again', async () => {
    const { source, counts, failing } = fakeSource([{ durable: 'a_b', pending: 3, inFlight: 0 }], 1)
    const metrics = prometheusMetrics({ system: source, systemCacheMs: 60_000 })
    failing(true)
    const { body } = await metrics.scrape()
    expect(samples(body, 'event_driven_consumer_group_pending')).toEqual([])
    // Unknown, never a made-up 0 (prom-client writes NaN as `Nan`, which Prometheus reads).
    expect(samples(body, 'event_driven_outbox_unpublished_events')).toEqual([
      'event_driven_outbox_unpublished_events Nan',
    ])
    expect(samples(body, 'event_driven_system_figures_up')).toEqual([
      'event_driven_system_figures_up 0',
    ])
    expect(samples(body, 'event_driven_dlq_open_entries')).toEqual([])
    failing(false)
    const again = await metrics.scrape()
    expect(counts.groups).toBe(2)
    expect(samples(again.body, 'event_driven_consumer_group_pending')).toEqual([
      'event_driven_consumer_group_pending{consumer_group="a.b"} 3',
    ])
    expect(samples(again.body, 'event_driven_system_figures_up')).toEqual([
      'event_driven_system_figures_up 1',
    ])
  })
})
