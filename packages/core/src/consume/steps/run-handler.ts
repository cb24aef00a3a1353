import { HandlerTimeoutError } from '../../errors.ts'
import { childPublisher } from '../../publish/publisher.ts'
import type { DeliveryStep } from '../delivery.ts'
import type { HandlerContext } from '../handler.ts'
import { ack, next } from '../outcome.ts'

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
  const ctx: HandlerContext = {
    consumerGroup: group.consumerGroup,
    attempt,
    signal: abort.signal,
    logger,
    publish: childPublisher(group.publisher, event, group.consumerGroup, attempt),
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
  try {
    await Promise.race([group.handler(event, ctx), timeout])
  } catch (error) {
    return next({ ...delivery, failure: { error } })
  } finally {
    clearTimeout(timer)
  }
  await group.ledger.markProcessed(delivery.key, event.operationId)
  return ack('handled')
}
