/**
 * Errors a caller can branch on. Each has a name, a `code` from `ErrorCodes`, and a message a
 * person can act on. Every error the core throws on purpose extends `EventDrivenError`; anything
 * else (a driver's error, a bug) is unexpected.
 */

/**
 * The code of every error the core throws, by the situation it names (kebab-case, like the DLQ
 * action refusals `not-found`, `not-open`, `lost-race` and `untrusted`). A code never changes
 * once published; messages may.
 */
export const ErrorCodes = {
  /** `EventValidationError`: event data fails its definition's schema; nothing was recorded. */
  EventDataInvalid: 'event-data-invalid',
  /** `ConfigurationError`: a definition, handler name or option that cannot work. */
  ConfigurationInvalid: 'configuration-invalid',
  /** `RecordError`: MongoDB did not take the event; nothing was recorded or published. */
  NotRecorded: 'not-recorded',
  /** `PublishError`: recorded, but JetStream did not confirm; the relay publishes it later. */
  PublishUnconfirmed: 'publish-unconfirmed',
  /** `HandlerTimeoutError`: a handler ran past its timeout; counts as a failure. */
  HandlerTimeout: 'handler-timeout',
  /** `ServiceStoppedError`: the service is stopping or stopped; nothing was published. */
  ServiceStopped: 'service-stopped',
  /** `OperationIdError`: the operation id is malformed. */
  OperationIdInvalid: 'operation-id-invalid',
  /** `OperationIdError`: an operation with that id is recorded already (one id, one command). */
  OperationIdTaken: 'operation-id-taken',
  /** `ConcurrencyError`: another change took the stream position first; nothing was applied. */
  ConcurrencyConflict: 'concurrency-conflict',
  /** `StreamNameError`: a stream name that is not `<type>:<id>`, or a type no stream definition has. */
  StreamNameInvalid: 'stream-name-invalid',
  /** `UnknownVersionError`: a stored or received version that cannot be lifted to the current one. */
  UnknownVersion: 'unknown-version',
  /** `FormatError`: a stored record or message in a format this version does not read (docs/upgrading.md). */
  FormatUnsupported: 'format-unsupported',
  /** `DlqFilterError`: a bulk DLQ filter that selects every entry, where only `'all'` may. */
  DlqFilterSelectsAll: 'dlq-filter-selects-all',
  /** `RevocationUnavailable`: the admin sign-outs could not be read or written; the session is refused. */
  RevocationUnavailable: 'revocation-unavailable',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

/** The base of every error the core throws on purpose: `instanceof` it, then branch on `code`. */
export abstract class EventDrivenError extends Error {
  abstract readonly code: ErrorCode
}

/** Event data that does not match its definition's schema. Nothing was recorded. */
export class EventValidationError extends EventDrivenError {
  override name = 'EventValidationError'
  readonly code = ErrorCodes.EventDataInvalid
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
export class ConfigurationError extends EventDrivenError {
  override name = 'ConfigurationError'
  readonly code = ErrorCodes.ConfigurationInvalid
}

/** MongoDB did not take the event: nothing was recorded, nothing published. */
export class RecordError extends EventDrivenError {
  override name = 'RecordError'
  readonly code = ErrorCodes.NotRecorded
}

/**
 * The event is recorded but JetStream did not confirm it: the relay publishes it once NATS
 * answers again, so the caller must not publish it a second time.
 */
export class PublishError extends EventDrivenError {
  override name = 'PublishError'
  readonly code = ErrorCodes.PublishUnconfirmed
  readonly eventId: string
  constructor(message: string, eventId: string, options?: ErrorOptions) {
    super(message, options)
    this.eventId = eventId
  }
}

/** A handler ran longer than its timeout; counts as a failure. */
export class HandlerTimeoutError extends EventDrivenError {
  override name = 'HandlerTimeoutError'
  readonly code = ErrorCodes.HandlerTimeout
}

/** The service is stopping or stopped. */
export class ServiceStoppedError extends EventDrivenError {
  override name = 'ServiceStoppedError'
  readonly code = ErrorCodes.ServiceStopped
}

/**
 * An operation id that cannot name a new command: malformed (`operation-id-invalid`), or
 * recorded already (`operation-id-taken`: look the operation up rather than send it again).
 */
export class OperationIdError extends EventDrivenError {
  override name = 'OperationIdError'
  readonly code: typeof ErrorCodes.OperationIdInvalid | typeof ErrorCodes.OperationIdTaken
  constructor(
    message: string,
    code: OperationIdError['code'] = ErrorCodes.OperationIdInvalid,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.code = code
  }
}

/**
 * A state change decided on a stream position that another change took first: nothing was
 * applied or published. Read the entity again and decide again.
 */
export class ConcurrencyError extends EventDrivenError {
  override name = 'ConcurrencyError'
  readonly code = ErrorCodes.ConcurrencyConflict
  /** The stream: `<type>/<key>` for an entity's state, `<type>:<id>` for an event-sourced one. */
  readonly stream: string
  /**
   * What the writer expected: the position it decided on (a change after it exists already), or
   * for an event-sourced stream `no_stream` / `stream_exists`.
   */
  readonly expectedPosition: number | 'no_stream' | 'stream_exists'
  /** The stream's position when the conflict was found, where it was read (event-sourced streams). */
  readonly actualPosition?: number
  constructor(
    stream: string,
    expectedPosition: number | 'no_stream' | 'stream_exists',
    actualPosition?: number,
  ) {
    super(
      typeof expectedPosition === 'number'
        ? `${stream} changed after position ${expectedPosition}: another change took position ${expectedPosition + 1} first${actualPosition === undefined ? '' : ` (the stream is at ${actualPosition})`}; nothing was applied or published`
        : `${stream} was expected to ${expectedPosition === 'no_stream' ? 'not exist' : 'exist'}, and is at position ${actualPosition ?? '?'}; nothing was appended`,
    )
    this.stream = stream
    this.expectedPosition = expectedPosition
    if (actualPosition !== undefined) this.actualPosition = actualPosition
  }
}

/** A stream name that is not `<type>:<id>` with a defined type (`service.streams.define`). */
export class StreamNameError extends EventDrivenError {
  override name = 'StreamNameError'
  readonly code = ErrorCodes.StreamNameInvalid
}
