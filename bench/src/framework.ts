import {
  createService,
  type Operation,
  type Service,
  type ServiceTracing,
} from '@event-driven/core'
import { pino } from 'pino'
import { BenchEvent, benchData, nowMs } from './events.ts'
import type { PipelineOptions, RawPipeline } from './raw.ts'

/**
 * The same pipeline through the framework: op.publish → consumer group → no-op handler. With
 * `tracing`, the service is given it (absent: tracing off, the default); `replicas` is the
 * stream's (default 1; more needs a cluster).
 */
export async function startFrameworkPipeline(
  options: PipelineOptions & {
    tracing?: ServiceTracing | undefined
    replicas?: number | undefined
  },
): Promise<RawPipeline & { service: Service }> {
  const service = await createService({
    name: 'bench',
    nats: options.natsUrl,
    mongodb: options.mongo,
    database: options.database,
    stream: {
      name: options.stream,
      subjectPrefix: options.subjectPrefix,
      ...(options.replicas ? { replicas: options.replicas } : {}),
    },
    logger: pino({ level: 'warn' }),
    stopOnSignals: false,
    ...(options.tracing ? { tracing: options.tracing } : {}),
  })
  const latencies: number[] = []
  let handled = 0
  service.on(
    BenchEvent,
    { handler: 'measure', concurrency: options.concurrency },
    async (event) => {
      latencies.push(nowMs() - event.data.sentAt)
      handled += 1
    },
  )
  await service.start()
  const op: Operation = await service.startOperation({ name: 'bench' })
  return {
    service,
    latencies,
    handled: () => handled,
    publish: async (n, bytes) => {
      await op.publish(BenchEvent, benchData(n, bytes))
    },
    stop: () => service.stop(),
  }
}
