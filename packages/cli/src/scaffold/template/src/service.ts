import { newId } from '@event-driven/core'
import {
  createRuntime,
  defineServiceModule,
  parseInput,
  type ServiceConfig,
} from '@event-driven/service-kit'
import type { Logger } from 'pino'
import { z } from 'zod'
import {
  // @each publishes
  OrderArchived,
  // @end
  // @each consumesFromOthers
  InvoicePaid,
  // @end
} from './events.ts'
import { orderHistoryGateway } from './gateway.ts'
// @each consumes
import { onInvoicePaid } from './handlers/onInvoicePaid.ts'
// @end
// @if consumes
import type { ReceivedRecord, ReceivedStore } from './received.ts'
// @end

const NoteInput = z.object({ note: z.string().trim().min(1, 'must not be empty').max(10_000) })

/** The order-history service; ./events.ts defines what it publishes and consumes. */
async function start(config: ServiceConfig, logger: Logger) {
  const runtime = await createRuntime('order-history', config, logger)
  // @if consumes
  // What the handlers keep: one document per event handled, written once (idempotent).
  const collection = runtime.db.collection<ReceivedRecord>('received')
  const received: ReceivedStore = {
    keep: async (doc) => {
      await collection.updateOne({ _id: doc._id }, { $setOnInsert: doc }, { upsert: true })
    },
  }
  // @end
  // @each consumes
  runtime.core.on(InvoicePaid, { handler: 'onInvoicePaid' }, (event) =>
    onInvoicePaid(event, received),
  )
  // @end

  await runtime.start({
    // @each publishes
    recordOrderArchived: async (input, actor, call) => {
      const { note } = parseInput(NoteInput, input)
      // The command first, under the operation id the gateway minted (its caller knows it).
      const op = await runtime.core.startOperation({
        id: call.operationId,
        name: 'recordOrderArchived',
        input: { note },
        actor: actor?.userId ?? null,
      })
      const orderId = newId()
      await op.publish(OrderArchived, { orderId, note })
      await op.complete()
      return { operationId: op.id, orderId }
    },
    // @end
  })
  return runtime
}

export const orderHistory = defineServiceModule({
  name: 'order-history',
  start,
  gateway: orderHistoryGateway,
})
