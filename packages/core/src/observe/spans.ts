import type { Redelivery } from '../publish/wire.ts'
import type { TraceContext } from './trace-context.ts'
import type { SpanAttributes, SpanStart, TraceSpan } from './tracing.ts'

/**
 * The spans the core starts, named and described after OpenTelemetry's messaging semantic
 * conventions (`messaging.*`); what those do not name is under `event_driven.*`. Span names hold
 * values from code only (subjects of definitions, operation and handler names), never bytes of a
 * message: a forged subject would otherwise mint names without end.
 */

const messaging = { 'messaging.system': 'nats' } as const

/** Ids read from a message are attribute values: kept, but cut to a size a backend takes. */
function label(value: string): string {
  return value.slice(0, 200)
}

/** An operation: from its record to its end. Belongs to whatever is current (a request's span). */
export function operationSpan(operation: { id: string; name: string; service: string }): SpanStart {
  return {
    name: `operation ${operation.name}`,
    kind: 'internal',
    parent: 'active',
    attributes: {
      'event_driven.operation.id': operation.id,
      'event_driven.operation.name': operation.name,
      'event_driven.service': operation.service,
    },
  }
}

/** One event, from its record until JetStream confirms it (or the relay's later publish of it). */
export function publishSpan(
  event: { id: string; subject: string; operationId: string; wireSubject: string },
  parent: TraceContext | TraceSpan | undefined,
  redelivery?: Redelivery,
  links?: TraceContext[],
): SpanStart {
  return {
    name: `publish ${event.subject}`,
    kind: 'producer',
    ...(parent ? { parent } : {}),
    ...(links ? { links } : {}),
    attributes: {
      ...messaging,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.destination.name': event.wireSubject,
      'messaging.message.id': event.id,
      'event_driven.operation.id': event.operationId,
      ...(redelivery ? { 'event_driven.redelivery': redelivery } : {}),
    },
  }
}

/** One delivery to one consumer group: from its arrival to its settlement. */
export function deliverySpan(delivery: {
  /** The consumer group's subject (from code): a forged one is named `other` by the caller. */
  subject: string
  consumerGroup: string
  wireSubject: string
  eventId: string
  operationId?: string
  attempt: number
  streamSequence: number
  redelivery?: Redelivery
  /** The trace the message carries: the publish it belongs to. */
  parent?: TraceContext
  /** The trace a redriven or replayed message first belonged to. */
  link?: TraceContext
}): SpanStart {
  const attributes: SpanAttributes = {
    ...messaging,
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': label(delivery.wireSubject),
    'messaging.consumer.group.name': delivery.consumerGroup,
    'messaging.message.id': label(delivery.eventId),
    'event_driven.attempt': delivery.attempt,
    'event_driven.stream.sequence': delivery.streamSequence,
  }
  if (delivery.operationId) attributes['event_driven.operation.id'] = label(delivery.operationId)
  if (delivery.redelivery) attributes['event_driven.redelivery'] = delivery.redelivery
  return {
    name: `process ${delivery.subject}`,
    kind: 'consumer',
    ...(delivery.parent ? { parent: delivery.parent } : {}),
    ...(delivery.link ? { links: [delivery.link] } : {}),
    attributes,
  }
}

/** One run of a handler, inside its delivery. */
export function handlerSpan(consumerGroup: string, parent: TraceSpan): SpanStart {
  return {
    name: `handle ${consumerGroup}`,
    kind: 'internal',
    parent,
    attributes: { 'messaging.consumer.group.name': consumerGroup },
  }
}

/**
 * A redrive or a replay to one consumer group: a new trace (a new decision, often days later).
 * A redrive links to the trace its event first belonged to; a replay sends many events, and
 * each of its deliveries links to its event's own (`traceHeaders.link`).
 */
export function resendSpan(
  kind: 'redrive' | 'replay',
  consumerGroup: string,
  attributes: SpanAttributes,
  original?: TraceContext,
): SpanStart {
  return {
    name: `${kind} ${consumerGroup}`,
    kind: 'producer',
    ...(original ? { links: [original] } : {}),
    attributes: {
      ...messaging,
      'messaging.operation.type': 'send',
      'messaging.operation.name': kind,
      'messaging.consumer.group.name': consumerGroup,
      ...attributes,
    },
  }
}
