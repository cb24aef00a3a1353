export {
  createService,
  type ConsumerGroupInfo,
  type Service,
  type ServiceOptions,
} from './service.ts'
export { startAdminServer, type AdminServer, type AdminServerOptions } from './admin/server.ts'
export { parseApiKeys, type ApiKey } from './admin/credentials.ts'
export {
  defineEvent,
  type DefineEventOptions,
  type EventData,
  type EventDefinition,
} from './event-definition.ts'
export type { Operation, StartOperationInput } from './operation.ts'
export type {
  EventHandler,
  HandlerContext,
  HandlerOptions,
  ReceivedEvent,
} from './consume/handler.ts'
export { alertMessage, type AlertOptions } from './alert/dlq-alerts.ts'
export { durableName } from './consume/consumer-group.ts'
export { type DlqActionResult, type DlqFilter, type DlqManager } from './dlq/manage.ts'
export { defaultRetryPolicy, retryDelayMs, type RetryPolicy } from './consume/retry.ts'
export { defaultStreamOptions, type StreamDifference, type StreamOptions } from './streams.ts'
export { eventHeaders } from './publish/wire.ts'
export { childEventId, newId } from './ids.ts'
export {
  deliveryKey,
  eventStore,
  type AttemptError,
  type DlqAction,
  type DlqRecord,
  type DlqStatus,
  type EventRecord,
  type EventStore,
  type FailureRecord,
  type OperationRecord,
  type ProcessedRecord,
} from './store/event-store.ts'
export {
  ConfigurationError,
  EventValidationError,
  HandlerTimeoutError,
  PublishError,
  RecordError,
  ServiceStoppedError,
} from './errors.ts'
