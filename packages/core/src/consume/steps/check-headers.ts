import type { DeliveryStep } from '../delivery.ts'
import { next, refuse } from '../outcome.ts'

/**
 * A header the framework cannot use (a version that is not a number, a date that is not one)
 * makes the message unusable on every delivery: to the DLQ on the first, with what is wrong.
 */
export const checkHeaders: DeliveryStep = (delivery) =>
  delivery.raw.problem ? refuse(delivery, delivery.raw.problem, true) : next(delivery)
