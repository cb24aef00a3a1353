export {
  createService,
  type ConsumerGroupInfo,
  type Service,
  type ServiceOptions,
} from './service.ts'
export {
  connectToNats,
  natsOptionsFromEnv,
  type NatsOptions,
  type NatsTarget,
} from './nats-connection.ts'
export {
  createAdminHandler,
  startAdminServer,
  type AdminServer,
  type AdminServerOptions,
} from './admin/server.ts'
export { parseApiKeys, type ApiKey, type ApiKeyRole } from './admin/credentials.ts'
export {
  defineEvent,
  readEventData,
  type DefineEventOptions,
  type EventData,
  type EventDefinition,
} from './event-definition.ts'
export { UnknownVersionError, type Upcaster, type Upcasters } from './version/upcast.ts'
export {
  migrateEvents,
  type MigrateOptions,
  type MigrationGroup,
  type MigrationReport,
} from './version/migrate.ts'
export {
  createArchiver,
  s3Client,
  startArchiver,
  type ArchiveKeep,
  type ArchiveOptions,
  type Archiver,
} from './archive/archiver.ts'
export {
  archiveFields,
  decodeObject,
  jsonLine,
  type ArchiveKindName,
  type ArchiveLocation,
  type ArchiveManifest,
} from './archive/layout.ts'
export { readArchivedEvents, type ArchivedEventQuery } from './archive/read.ts'
export { archiveOptionsFromEnv } from './archive/env.ts'
export { sweepExpired, type RetentionOptions } from './retention/retention.ts'
export { operationChain, type OperationChain } from './store/operation-chain.ts'
export type { ConsumerGroupSummary, OperationList, SubjectSummary } from './admin/views.ts'
export {
  type EventSelection,
  type EventSource,
  type ReplayOptions,
  type ReplayResult,
} from './replay/replay.ts'
export type { Operation, OperationOptions, StartOperationInput } from './operation.ts'
export {
  changeSteps,
  type ChangeInput,
  type ChangeResult,
  type ChangeStep,
  type EntityState,
  type EntityStateOptions,
  type StateChange,
} from './state/entity-state.ts'
export type {
  EventHandler,
  HandlerContext,
  HandlerOptions,
  ReceivedEvent,
} from './consume/handler.ts'
export { alertMessage, type AlertOptions } from './alert/dlq-alerts.ts'
export { durableName } from './consume/consumer-group.ts'
export {
  DlqFilterError,
  dlqFilterFields,
  type DlqActionResult,
  type DlqRefusalCode,
  type DlqCycle,
  type DlqEntry,
  type DlqEntryDetail,
  type DlqFilter,
  type DlqManager,
} from './dlq/manage.ts'
export { defaultRetryPolicy, retryDelayMs, type RetryPolicy } from './consume/retry.ts'
export { defaultStreamOptions, type StreamDifference, type StreamOptions } from './streams.ts'
export { eventHeaders } from './publish/wire.ts'
export { loadSigningSecret, signedPublisher } from './publish/signature.ts'
export { childEventId, newId } from './ids.ts'
export { deliveryKey, dlqEntryId } from './store/keys.ts'
export { isDuplicateKey } from './store/insert-new.ts'
export {
  connectEventStore,
  eventStore,
  type ArchiveBatchRecord,
  type ArchiveClaimRecord,
  type AttemptError,
  type ChangeClaimRecord,
  type ChangeMark,
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
  ConcurrencyError,
  ConfigurationError,
  ErrorCodes,
  EventDrivenError,
  EventValidationError,
  HandlerTimeoutError,
  OperationIdError,
  PublishError,
  RecordError,
  ServiceStoppedError,
  type ErrorCode,
} from './errors.ts'
