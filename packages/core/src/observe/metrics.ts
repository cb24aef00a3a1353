import type { Logger } from 'pino'
import type { Redelivery } from '../publish/wire.ts'

/**
 * What a service tells a metrics observer, at the points where each fact is known: a handler's
 * run (`runHandler`), a delivery's settlement (`handleDelivery`), JetStream's confirmation of a
 * published event (`outbox.publishRecorded`). `prometheusMetrics()` is one observer; any object
 * with these methods is another. Every service also has one of its own, the flow recorder
 * (`observe/flow/`), unless `flow: false`; without any, none of this runs: every call site checks
 * for an observer first, so a delivery allocates nothing for metrics. Its methods run on the hot
 * path: they must be quick. One that throws is logged and ignored (`guardedMetrics`).
 */
export interface ServiceMetrics {
  /** A handler finished or failed (threw, or ran past its timeout). */
  handlerRan(run: HandlerRun): void
  /** A delivery was settled with JetStream: exactly once per delivery. */
  delivered(delivery: SettledDelivery): void
  /** JetStream confirmed an event this process published. */
  published(event: PublishedEvent): void
}

/**
 * The subject label of a delivery whose subject is not its consumer group's (a forged or
 * malformed message): label values come from code, never from message bytes.
 */
export const otherSubject = 'other'

/** One run of a handler. */
export interface HandlerRun {
  /** `<service>.<handler>`. */
  consumerGroup: string
  /** The subject the consumer group handles. */
  subject: string
  /** From the handler's start to its end (or its timeout). */
  durationMs: number
  /** It threw or ran past its timeout: a failure is recorded for it. */
  failed: boolean
  /** JetStream's delivery count: 1 on the first delivery. */
  attempt: number
  /** Why the event came again: a redriven DLQ entry is `redrive`; absent on a first delivery. */
  redelivery?: Redelivery
  /** When the event was recorded (its `createdAt`): the flow's step time runs from it. */
  eventCreatedAt?: Date
}

/**
 * How a delivery was settled:
 * - `handled`: the handler finished; acked.
 * - `duplicate`: processed before (the ledger says so); acked without running the handler.
 * - `retried`: to be delivered again after a delay (the handler failed, or the ledger or the
 *   failure record could not be read or written).
 * - `dead_lettered`: given up and written to the DLQ; terminated in JetStream.
 * - `parked`: given up, the DLQ write failed, parked in NATS until MongoDB takes it.
 * - `unrecorded`: given up but neither the DLQ nor the parked stream took it: left to come again.
 */
export type DeliveryOutcome =
  'handled' | 'duplicate' | 'retried' | 'dead_lettered' | 'parked' | 'unrecorded'

/** One settled delivery. */
export interface SettledDelivery {
  /** `<service>.<handler>`. */
  consumerGroup: string
  /** The consumer group's subject, or `other` for a message that named another. */
  subject: string
  outcome: DeliveryOutcome
  /** JetStream's delivery count: 1 on the first delivery. */
  attempt: number
}

/** One event JetStream confirmed. */
export interface PublishedEvent {
  subject: string
  /**
   * - `publish`: its first publish (by an operation, a handler or a state change);
   * - `relay`: the relay published it, after a crash or an outage left it in the outbox;
   * - `retry`: a retried handler emitted it again (JetStream or the ledger drops the copy).
   */
  via: 'publish' | 'relay' | 'retry'
  /** From the event's record (`createdAt`) to JetStream's confirmation. */
  latencyMs: number
  /** Who published it: the service, and the consumer group when a handler emitted it. */
  publishedBy?: { service: string; consumerGroup?: string }
  /** When it was recorded. */
  createdAt?: Date
  /** When the event whose handler emitted it was recorded; absent when not known here. */
  parentCreatedAt?: Date
  /**
   * A retried handler emitted it again and the first copy was recorded before: the same event,
   * which JetStream or the ledger drops (`via` is `retry`).
   */
  copy?: true
}

/**
 * What the gateway tells a metrics observer: each GraphQL operation it answered (the service
 * kit's gateway reports to `config.metrics` when it has this method; `prometheusMetrics()` has).
 * Label values come from code: the gateway names a root field only when the schema has it.
 */
export interface GatewayMetrics {
  graphqlRequest(request: GraphqlRequest): void
}

/** `other`: what a GraphQL request is labelled with when it names nothing the schema has. */
export const otherGraphqlLabel = 'other'

/** One GraphQL operation the gateway answered. */
export interface GraphqlRequest {
  /** `other` when no operation could be read (a syntax error, an unknown operation name). */
  operationType: 'query' | 'mutation' | 'subscription' | typeof otherGraphqlLabel
  /** The operation's first root field: one of the schema's root fields, else `other`. */
  rootField: string
  /** `error` when the answer carries errors (refused, failed, partly failed). */
  outcome: 'ok' | 'error'
  /** From the gateway reading the request's parameters to its result (a subscription's first). */
  durationMs: number
}

/**
 * The observer with each call guarded: one that throws is logged (the first time) and ignored, so
 * it never turns a handled event into a failure or a confirmed publish into an error; it only
 * reports them. The service and the in-memory consumer group wrap the observer they are given.
 */
export function guardedMetrics(
  metrics: ServiceMetrics,
  logger: Logger,
  name = 'the metrics observer',
): ServiceMetrics {
  let logged = false
  const guard =
    <Fact>(call: (fact: Fact) => void) =>
    (fact: Fact) => {
      try {
        call(fact)
      } catch (error) {
        if (logged) return
        logged = true
        logger.error({ err: error }, `${name} threw: its figures are incomplete`)
      }
    }
  return {
    handlerRan: guard((run) => metrics.handlerRan(run)),
    delivered: guard((delivery) => metrics.delivered(delivery)),
    published: guard((event) => metrics.published(event)),
  }
}

/**
 * The observers as one: each told every fact, in order. Undefined without any (then nothing is
 * measured); the observer itself when there is one. Guard each first: one that throws must not
 * keep the others from their facts.
 */
export function allMetrics(
  observers: readonly (ServiceMetrics | undefined)[],
): ServiceMetrics | undefined {
  const present = observers.filter((o): o is ServiceMetrics => o !== undefined)
  if (present.length <= 1) return present[0]
  return {
    handlerRan: (run) => present.forEach((o) => o.handlerRan(run)),
    delivered: (delivery) => present.forEach((o) => o.delivered(delivery)),
    published: (event) => present.forEach((o) => o.published(event)),
  }
}
