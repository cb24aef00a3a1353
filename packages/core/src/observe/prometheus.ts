import type * as Prom from 'prom-client'
import { promClient } from '../optional-peers.ts'
import { graphqlBuckets, handlerBuckets, publishBuckets } from './buckets.ts'
import type { GatewayMetrics, ServiceMetrics } from './metrics.ts'
import {
  dlqCountLimit,
  systemFigures,
  type SystemFigures,
  type SystemSource,
} from './system-figures.ts'

/** What `/metrics` answers: the body in Prometheus's text format, and its content type. */
export interface MetricsText {
  contentType: string
  body: string
}

export interface PrometheusMetricsOptions {
  /**
   * Also export the system's figures, read on scrape: each consumer group's pending and in-flight
   * messages (from JetStream), the outbox's unpublished events and the DLQ's open entries (from
   * MongoDB). They are the same from every process, so give a source in one process only: the
   * admin server's.
   * @default none
   */
  system?: SystemSource
  /**
   * With `system`: the services archive to S3 (`archive`), so export the archive lag too. Without
   * an archive nothing copies events and the lag would only grow: it is not exported.
   * @default false
   */
  archiving?: boolean
  /**
   * How long the system's figures are reused between scrapes.
   * @default 5_000
   */
  systemCacheMs?: number
  /**
   * prom-client's default metrics of the Node.js process: CPU, memory, event loop lag, GC.
   * @default false
   */
  processMetrics?: boolean
}

/**
 * A metrics observer for `createService({ metrics })` (one per process: every service of the
 * process shares it) with the Prometheus text to serve at `/metrics`.
 */
export interface PrometheusMetrics extends ServiceMetrics, GatewayMetrics {
  /**
   * The current metrics, for a `/metrics` endpoint (the probe server's, the admin server's):
   * a function of its own, to pass as it is.
   */
  readonly scrape: () => Promise<MetricsText>
}

/**
 * Prometheus metrics with prom-client (an optional peer dependency: `npm install prom-client`;
 * without it this throws a ConfigurationError). Each call has a registry of its own. Labels hold
 * names from code only (consumer groups, subjects of definitions), so their number is bounded.
 * See docs/observability.md for every metric.
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const prom = promClient()
  const registry = new prom.Registry()
  const registers = [registry]
  if (options.processMetrics) prom.collectDefaultMetrics({ register: registry })

  const deliveries = new prom.Counter({
    name: 'event_driven_deliveries_total',
    help: 'Deliveries settled with JetStream, by consumer group, subject and outcome (handled, duplicate, retried, dead_lettered, parked, unrecorded).',
    labelNames: ['consumer_group', 'subject', 'outcome'] as const,
    registers,
  })
  const failures = new prom.Counter({
    name: 'event_driven_handler_failures_total',
    help: 'Handler runs that threw or ran past their timeout, by consumer group and subject.',
    labelNames: ['consumer_group', 'subject'] as const,
    registers,
  })
  const redrives = new prom.Counter({
    name: 'event_driven_redrives_total',
    help: 'Redriven DLQ entries whose handler ran, by consumer group.',
    labelNames: ['consumer_group'] as const,
    registers,
  })
  const handlerDuration = new prom.Histogram({
    name: 'event_driven_handler_duration_seconds',
    help: 'How long handler runs took, finished or failed, by consumer group.',
    labelNames: ['consumer_group'] as const,
    buckets: handlerBuckets,
    registers,
  })
  const published = new prom.Counter({
    name: 'event_driven_events_published_total',
    help: 'Events JetStream confirmed, by subject and how they were published (publish, relay, retry).',
    labelNames: ['subject', 'via'] as const,
    registers,
  })
  const publishLatency = new prom.Histogram({
    name: 'event_driven_publish_latency_seconds',
    help: "From an event's record to JetStream's confirmation, by how it was published (publish, relay, retry).",
    labelNames: ['via'] as const,
    buckets: publishBuckets,
    registers,
  })
  // Only the gateway reports them: elsewhere they show their help and no series.
  const graphqlRequests = new prom.Counter({
    name: 'event_driven_graphql_requests_total',
    help: "GraphQL operations the gateway answered, by operation type, root field (one of the schema's, else other) and outcome (ok, error).",
    labelNames: ['operation_type', 'root_field', 'outcome'] as const,
    registers,
  })
  const graphqlDuration = new prom.Histogram({
    name: 'event_driven_graphql_request_duration_seconds',
    help: 'From the gateway reading a GraphQL request to its result, by operation type and root field.',
    labelNames: ['operation_type', 'root_field'] as const,
    buckets: graphqlBuckets,
    registers,
  })
  if (options.system) systemGauges(prom, registers, options.system, options)

  return {
    handlerRan(run) {
      handlerDuration.observe({ consumer_group: run.consumerGroup }, run.durationMs / 1000)
      if (run.failed) failures.inc({ consumer_group: run.consumerGroup, subject: run.subject })
      if (run.redelivery === 'redrive' && run.attempt === 1)
        redrives.inc({ consumer_group: run.consumerGroup })
    },
    delivered(delivery) {
      deliveries.inc({
        consumer_group: delivery.consumerGroup,
        subject: delivery.subject,
        outcome: delivery.outcome,
      })
    },
    published(event) {
      published.inc({ subject: event.subject, via: event.via })
      // A clock step can make it negative: such a sample says nothing.
      if (event.latencyMs >= 0) publishLatency.observe({ via: event.via }, event.latencyMs / 1000)
    },
    graphqlRequest(request) {
      const labels = { operation_type: request.operationType, root_field: request.rootField }
      graphqlRequests.inc({ ...labels, outcome: request.outcome })
      graphqlDuration.observe(labels, request.durationMs / 1000)
    },
    scrape: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  }
}

/** The gauges read on scrape from the system's source, through one cached read. */
function systemGauges(
  prom: typeof Prom,
  registers: Prom.Registry[],
  source: SystemSource,
  options: PrometheusMetricsOptions,
) {
  const figures = systemFigures(source, {
    ...(options.systemCacheMs === undefined ? {} : { cacheMs: options.systemCacheMs }),
    archiving: options.archiving ?? false,
  })
  /** The figures, or undefined when they could not be read (then no gauge shows a number). */
  const read = () => figures().catch(() => undefined)
  const gauge = (
    name: string,
    help: string,
    labelNames: readonly string[],
    fill: (gauge: Prom.Gauge, figures: SystemFigures) => void,
  ) =>
    new prom.Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const got = await read()
        this.reset()
        if (got) fill(this, got)
        // prom-client shows 0 for a gauge without labels: NaN says "unknown", never "none".
        else if (labelNames.length === 0) this.set(Number.NaN)
      },
    })
  gauge(
    'event_driven_consumer_group_pending',
    'Messages no instance of the consumer group has been given yet (JetStream, per durable: the same from every process).',
    ['consumer_group'],
    (g, got) => {
      for (const c of got.consumerGroups) g.set({ consumer_group: c.consumerGroup }, c.pending)
    },
  )
  gauge(
    'event_driven_consumer_group_in_flight',
    'Messages given to an instance of the consumer group and not yet acknowledged (JetStream, per durable).',
    ['consumer_group'],
    (g, got) => {
      for (const c of got.consumerGroups) g.set({ consumer_group: c.consumerGroup }, c.inFlight)
    },
  )
  gauge(
    'event_driven_outbox_unpublished_events',
    'Events recorded in the outbox and not yet published (counted up to 100,000; NaN when it could not be read).',
    [],
    (g, got) => g.set(got.outboxUnpublished),
  )
  gauge(
    'event_driven_dlq_open_entries',
    `DLQ entries not yet redriven, discarded or resolved, by consumer group (other: one the stream no longer has); counted up to ${dlqCountLimit.toLocaleString('en')} in all.`,
    ['consumer_group'],
    (g, got) => {
      for (const d of got.dlqOpen) g.set({ consumer_group: d.consumerGroup }, d.open)
    },
  )
  if (options.archiving)
    gauge(
      'event_driven_archive_lag_seconds',
      'Seconds since the oldest event not yet copied to S3 was recorded; 0 when none waits (NaN when it could not be read).',
      [],
      (g, got) => g.set(got.archiveLagSeconds ?? 0),
    )
  new prom.Gauge({
    name: 'event_driven_system_figures_up',
    help: '1 when the figures above were read at this scrape, 0 when JetStream or MongoDB did not answer.',
    registers,
    async collect() {
      this.set((await read()) ? 1 : 0)
    },
  })
}
