/**
 * Errors a caller can branch on. Each has a name and a message a person can act on.
 */

/** Event data that does not match its definition's schema. Nothing was recorded. */
export class EventValidationError extends Error {
  override name = 'EventValidationError'
  readonly subject: string
  /** Each problem: the path into the data (`author.name`, empty for the root) and what is wrong. */
  readonly issues: readonly { path: string; message: string }[]
  constructor(subject: string, issues: readonly { path: string; message: string }[]) {
    super(
      `${subject} data is invalid: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
    )
    this.subject = subject
    this.issues = issues
  }
}

/** A definition, handler name or option that cannot work. Thrown at definition or start time. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError'
}

/** MongoDB did not take the event: nothing was recorded, nothing published. */
export class RecordError extends Error {
  override name = 'RecordError'
}

/**
 * The event is recorded but JetStream did not confirm it: the relay publishes it once NATS
 * answers again, so the caller must not publish it a second time.
 */
export class PublishError extends Error {
  override name = 'PublishError'
  readonly eventId: string
  constructor(message: string, eventId: string, options?: ErrorOptions) {
    super(message, options)
    this.eventId = eventId
  }
}

/** A handler ran longer than its timeout; counts as a failure. */
export class HandlerTimeoutError extends Error {
  override name = 'HandlerTimeoutError'
}

/** The service is stopping or stopped. */
export class ServiceStoppedError extends Error {
  override name = 'ServiceStoppedError'
}

/** An operation id that cannot name a new command: malformed, or already recorded. */
export class OperationIdError extends Error {
  override name = 'OperationIdError'
}

/**
 * A state change decided on a stream position that another change took first: nothing was
 * applied or published. Read the entity again and decide again.
 */
export class ConcurrencyError extends Error {
  override name = 'ConcurrencyError'
  /** The entity's stream: `<type>/<key>`. */
  readonly stream: string
  /** The position the change was decided on; a change after it exists already. */
  readonly expectedPosition: number
  constructor(stream: string, expectedPosition: number) {
    super(
      `${stream} changed after position ${expectedPosition}: another change took position ${expectedPosition + 1} first; nothing was applied or published`,
    )
    this.stream = stream
    this.expectedPosition = expectedPosition
  }
}
