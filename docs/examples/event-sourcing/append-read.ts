import { ConcurrencyError, defineEvent, type Operation, type Service } from '@event-driven/core'
import { z } from 'zod'

declare const service: Service
declare const op: Operation
const CartItemAdded = defineEvent({
  subject: 'Cart.itemAdded',
  version: 1,
  schema: z.object({ sku: z.string(), quantity: z.number().int() }),
})
const carts = service.streams.define({ type: 'cart', events: [CartItemAdded] })

// #region
// A new stream: it must not exist yet.
const first = await op.appendToStream(
  carts.name('c1'),
  [
    { event: CartItemAdded, data: { sku: 'tea', quantity: 1 } },
    { event: CartItemAdded, data: { sku: 'cup', quantity: 2 } },
  ],
  { expectedStreamPosition: 'no_stream' },
)
// first.position is 2: the position the next append expects.

try {
  await op.appendToStream(
    carts.name('c1'),
    [{ event: CartItemAdded, data: { sku: 'pot', quantity: 1 } }],
    { expectedStreamPosition: first.position },
  )
} catch (error) {
  // Another writer appended after position 2: nothing of this append was stored or published.
  if (error instanceof ConcurrencyError) console.log(error.expectedPosition, error.actualPosition)
  else throw error
}

// All events in order, or a range; read right after an append, it is there.
const { events, position } = await service.streams.readStream(carts.name('c1'), { from: 2 })
const items = await service.streams.aggregateStream(carts.name('c1'), {
  initialState: () => 0,
  evolve: (count, event) => count + event.data.quantity,
})
// #endregion
void events
void position
void items
