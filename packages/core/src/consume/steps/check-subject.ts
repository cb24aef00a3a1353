import type { DeliveryStep } from '../delivery.ts'
import { next, refuse } from '../outcome.ts'

/** A group handles one subject: a message of another one (a misrouted redrive) is refused. */
export const checkSubject: DeliveryStep = (delivery, group) => {
  const { subject } = delivery.raw
  if (subject === group.definition.subject) return next(delivery)
  return refuse(
    delivery,
    `this consumer group handles ${group.definition.subject}, not ${subject.slice(0, 200)}`,
    true,
  )
}
