import { defineEvent } from '@event-driven/core'
import {
  createRuntime,
  defineServiceModule,
  parseInput,
  requireWebhook,
} from '@event-driven/service-kit'
import { z } from 'zod'

// What the block in the docs assumes: the event the delivery publishes.
const PaymentReceived = defineEvent({
  subject: 'Payment.received',
  version: 1,
  schema: z.object({ paymentId: z.string(), amount: z.number() }),
})

// #region
const Payment = z.object({ paymentId: z.string().min(1), amount: z.number().positive() })

export const billing = defineServiceModule({
  name: 'billing',
  // POST /webhooks/payment-received, signed with WEBHOOK_SECRET_PAYMENT_RECEIVED.
  webhooks: { 'payment-received': { method: 'paymentReceived' } },
  async start(config, logger) {
    const runtime = await createRuntime('billing', config, logger)
    await runtime.start({
      paymentReceived: async (input, _actor, call) => {
        // FORBIDDEN unless the gateway forwards a checked delivery of this webhook.
        const { actor, deliveryId } = requireWebhook(call, 'payment-received')
        const payment = parseInput(Payment, input) // 422 BAD_USER_INPUT to the sender
        const op = await runtime.core.startOperation({
          id: call.operationId, // minted by the gateway: the sender already has it
          name: 'paymentReceived',
          input: { ...payment, deliveryId },
          actor, // 'webhook:payment-received'
        })
        await op.publish(PaymentReceived, payment)
        await op.complete()
        return { paymentId: payment.paymentId } // the answer's `result`
      },
    })
    return runtime
  },
})
// #endregion
