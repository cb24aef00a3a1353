import { partitionKeyOfData, validateEventData, type EventDefinition } from '../event-definition.ts'
import { ServiceStoppedError } from '../errors.ts'
import { childEventId, newId } from '../ids.ts'
import type { ReceivedEvent } from '../consume/handler.ts'
import { publishSpan } from '../observe/spans.ts'
import type { TraceContext } from '../observe/trace-context.ts'
import { contextOf, type ServiceTracing, type TraceSpan } from '../observe/tracing.ts'
import { wireSubject } from './wire.ts'
import type { DefinitionRegistry } from '../version/registry.ts'
import type { Outbox } from './outbox.ts'

/**
 * Where an event comes from, which decides its ids:
 * - an operation's own event: a new id, parent = the operation;
 * - a handler's child event: an id derived from (parent event, consumer group, subject,
 *   ordinal), so a retried handler re-emits the same ids and they deduplicate.
 */
export type Lineage = (OperationLineage | ChildLineage) & {
  /**
   * The trace the event continues: its operation's span, or the handler's run that publishes it
   * (or, in a process that does not trace, the context its parent carried).
   */
  trace?: TraceContext | TraceSpan
}

export interface OperationLineage {
  operationId: string
}

export interface ChildLineage {
  parent: ParentEvent
  consumerGroup: string
  /** The delivery's number: past the first, the child may repeat one published before. */
  attempt: number
  /** Its rank among the children of this subject that this delivery published (1, 2, …). */
  ordinal: number
}

/**
 * What a child event takes from the event whose handler published it (its `createdAt` only
 * tells the flow recorder how long after its parent the child came).
 */
export type ParentEvent = Pick<ReceivedEvent, 'id' | 'operationId' | 'redelivery'> &
  Partial<Pick<ReceivedEvent, 'createdAt'>>

/** The one way events enter the system: operations and handlers both publish through it. */
export interface Publisher {
  /**
   * Validates `data` against its definition, records the event in the outbox and publishes it.
   * Resolves with the event's id once it is recorded and published.
   */
  publish<Data>(
    definition: EventDefinition<string, Data>,
    data: Data,
    lineage: Lineage,
  ): Promise<string>
  /** The data as it will be recorded (schema applied); throws when it is invalid or stopped. */
  validate: <Data>(definition: EventDefinition<string, Data>, data: unknown) => Promise<Data>
}

export interface PublisherOptions {
  service: string
  outbox: Outbox
  /** The service's definitions: one definition per (subject, version), checked on each use. */
  definitions: DefinitionRegistry
  isStopped: () => boolean
  /** Starts a publish span per event (named with the wire subject); absent when tracing is off. */
  tracing?: { tracer: ServiceTracing; subjectPrefix: string }
}

export function createPublisher({
  service,
  outbox,
  definitions,
  isStopped,
  tracing,
}: PublisherOptions): Publisher {
  const validate = async <Data>(definition: EventDefinition<string, Data>, data: unknown) => {
    if (isStopped())
      throw new ServiceStoppedError(`service ${service} is stopped: nothing was published`)
    definitions.check(definition)
    return validateEventData(definition, data)
  }
  return {
    validate,
    async publish(definition, data, lineage) {
      const valid = await validate(definition, data)
      const partitionKey = partitionKeyOfData(definition, valid)
      const ids =
        'parent' in lineage
          ? {
              _id: childEventId(
                lineage.parent.id,
                lineage.consumerGroup,
                definition.subject,
                lineage.ordinal,
              ),
              operationId: lineage.parent.operationId,
              parentId: lineage.parent.id,
              publishedBy: { service, consumerGroup: lineage.consumerGroup },
              // A retried, redriven or replayed handler may be re-emitting this child (same id)
              // after JetStream's duplicate window: groups that handled it skip it by their ledger.
              ...(lineage.attempt > 1 || lineage.parent.redelivery
                ? { redelivery: 'retry' as const }
                : {}),
            }
          : {
              _id: newId(),
              operationId: lineage.operationId,
              parentId: lineage.operationId,
              publishedBy: { service },
            }
      const span = tracing?.tracer.start(
        publishSpan(
          {
            id: ids._id,
            subject: definition.subject,
            operationId: ids.operationId,
            wireSubject: wireSubject(tracing.subjectPrefix, definition.subject, partitionKey),
          },
          lineage.trace,
        ),
      )
      // Without a span of its own, the event carries on the context its parent carried.
      const trace = span ? span.context : contextOf(lineage.trace)
      try {
        await outbox.publish(
          {
            ...ids,
            subject: definition.subject,
            version: definition.version,
            data: valid,
            createdAt: new Date(),
            ...(partitionKey ? { partitionKey } : {}),
            ...(trace ? { trace } : {}),
          },
          'parent' in lineage ? lineage.parent.createdAt : undefined,
        )
      } catch (error) {
        span?.end(error)
        throw error
      }
      span?.end()
      return ids._id
    },
  }
}

/**
 * `HandlerContext.publish` for one delivery: each child of a subject gets the next ordinal, so
 * the same run of a handler derives the same ids on every attempt.
 */
export function childPublisher(
  publisher: Publisher,
  parent: ParentEvent,
  consumerGroup: string,
  attempt: number,
  trace?: TraceContext | TraceSpan,
  /** The run's ordinals per subject, shared with its stream appends. */
  ordinals = new Map<string, number>(),
): <Data>(definition: EventDefinition<string, Data>, data: Data) => Promise<string> {
  return (definition, data) => {
    const ordinal = (ordinals.get(definition.subject) ?? 0) + 1
    ordinals.set(definition.subject, ordinal)
    return publisher.publish(definition, data, {
      parent,
      consumerGroup,
      attempt,
      ordinal,
      ...(trace ? { trace } : {}),
    })
  }
}
