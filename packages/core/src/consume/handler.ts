import type { Logger } from 'pino'
import type { EventDefinition } from '../event-definition.ts'
import type { Redelivery } from '../publish/wire.ts'
import type { StreamWriter } from '../event-sourcing/streams.ts'

/** An event as a handler sees it: validated data of the definition's current version. */
export interface ReceivedEvent<Data = unknown> {
  id: string
  subject: string
  /** The definition's current version: older data was lifted by its upcasters. */
  version: number
  /** The version the event was published as, before any upcasting. */
  publishedVersion: number
  data: Data
  /** The operation that started the chain (the event's own id when it came without one). */
  operationId: string
  /** The event or operation that caused this one. */
  parentId: string
  createdAt: Date
  /**
   * Set when this delivery may repeat an earlier one: `redrive` (from the DLQ), `replay`,
   * `relay` (republished after a crash), `retry` (re-emitted by a retried parent handler).
   */
  redelivery?: Redelivery
}

export interface HandlerContext extends StreamWriter {
  /** `<service>.<handler>`: the consumer group handling this delivery. */
  consumerGroup: string
  /** This delivery's number, from JetStream (1 on the first delivery). */
  attempt: number
  /** Aborted when the handler passes its timeout or the service stops for good. */
  signal: AbortSignal
  /** A logger whose lines carry eventId, operationId and consumerGroup. */
  logger: Logger
  /**
   * Publishes a child event: same operationId, parentId = this event's id. Its id is derived
   * from (this event, consumer group, subject, ordinal), so a retried handler re-emits the same
   * ids and they deduplicate. Resolves with the child's id once it is recorded and published.
   * `appendToStream` and `handleCommand` derive their events' ids the same way, per stream
   * (from this event, the consumer group, the stream, the subject and an ordinal): a redelivered
   * run finds its events in the stream and appends nothing again.
   */
  publish<Data>(definition: EventDefinition<string, Data>, data: Data): Promise<string>
}

export type EventHandler<Data> = (event: ReceivedEvent<Data>, ctx: HandlerContext) => Promise<void>

export interface HandlerOptions {
  /**
   * Required, unique per service: with the service name it names the consumer group and its
   * durable consumer (`<service>_<handler>`). camelCase letters and digits.
   */
  handler: string
  /**
   * Deliveries this instance handles at once. Default 8; for an ordered group, the stream's
   * partition count (an instance pulls one event of each partition, see `docs/ordering.md`).
   */
  concurrency?: number
  /**
   * For a keyed event (`defineEvent({ key })`): handle the events of one key in stream order.
   * Default true; false handles them like unkeyed events, in no particular order. See
   * `docs/ordering.md`.
   */
  ordered?: boolean
  /**
   * A run longer than this counts as a failure. Default: the ack wait. While the handler runs
   * (up to this timeout) the message is kept alive with `working()`.
   */
  timeoutMs?: number
}
