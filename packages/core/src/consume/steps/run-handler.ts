import { HandlerTimeoutError } from '../../errors.ts'
import { childPublisher } from '../../publish/publisher.ts'
import type { ServiceMetrics } from '../../observe/metrics.ts'
import { handlerSpan } from '../../observe/spans.ts'
import type { ConsumerGroup, Delivery, DeliveryStep } from '../delivery.ts'
import type { HandlerContext } from '../handler.ts'
import { ack, handledNote, next } from '../outcome.ts'

/**
 * Runs the handler within its timeout (the message is kept alive meanwhile, see
 * `keep-alive.ts`); past it, the run counts as a failure and `ctx.signal` aborts. A finished run
 * is written to the ledger, then acknowledged: a crash between them is covered by `dedupe`.
 */
export const runHandler: DeliveryStep = async (delivery, group) => {
  const { event, attempt, logger } = delivery
  if (!event) throw new Error('runHandler needs the decoded event: decode comes before it')
  const { timeoutMs } = group.settings
  const abort = new AbortController()
  const span =
    group.tracing &&
    delivery.span &&
    group.tracing.start(handlerSpan(group.consumerGroup, delivery.span))
  // Children belong to this run's span; without tracing here, to the trace the event carried.
  const trace = span || delivery.raw.trace
  const ordinals = new Map<string, number>()
  const ctx: HandlerContext = {
    consumerGroup: group.consumerGroup,
    attempt,
    signal: abort.signal,
    logger,
    publish: childPublisher(group.publisher, event, group.consumerGroup, attempt, trace, ordinals),
    ...group.streamWriter({
      parent: event,
      consumerGroup: group.consumerGroup,
      attempt,
      ordinals,
      ...(trace ? { trace } : {}),
    }),
  }
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new HandlerTimeoutError(
        `the handler ran longer than its timeout of ${timeoutMs} ms`,
      )
      abort.abort(error)
      reject(error)
    }, timeoutMs)
  })
  // Recorded with the run's outcome (ledger entry or failure): the operation's timeline.
  const runStartedAt = new Date()
  // The fine clock is read only with an observer: without one, a run costs nothing more.
  const startedAt = group.metrics ? performance.now() : 0
  try {
    // Current while it runs, so spans the handler's own calls start are the run's children.
    const run = span ? span.within(() => group.handler(event, ctx)) : group.handler(event, ctx)
    await Promise.race([run, timeout])
  } catch (error) {
    if (group.metrics) observeRun(group.metrics, group, delivery, startedAt, true)
    span?.end(error)
    return next({ ...delivery, failure: { error, startedAt: runStartedAt } })
  } finally {
    clearTimeout(timer)
  }
  if (group.metrics) observeRun(group.metrics, group, delivery, startedAt, false)
  span?.end()
  await group.ledger.markProcessed(delivery.key, event.operationId, {
    attempt,
    startedAt: runStartedAt,
  })
  return ack(handledNote)
}

function observeRun(
  metrics: ServiceMetrics,
  group: ConsumerGroup,
  { event, attempt }: Delivery,
  startedAt: number,
  failed: boolean,
) {
  metrics.handlerRan({
    consumerGroup: group.consumerGroup,
    subject: group.definition.subject,
    durationMs: performance.now() - startedAt,
    failed,
    attempt,
    ...(event?.redelivery ? { redelivery: event.redelivery } : {}),
    ...(event ? { eventCreatedAt: event.createdAt } : {}),
  })
}
