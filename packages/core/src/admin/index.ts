// `@event-driven/core/admin`: the way in for tools (the CLI, the admin API and dashboard, your
// own scripts). Services need none of this: they use `@event-driven/core`.
export {
  openEventStore,
  type AdminSource,
  type EventStoreTools,
  type OpenEventStoreOptions,
} from '../open-event-store.ts'
export {
  createAdminHandler,
  startAdminServer,
  type AdminHandler,
  type AdminServer,
  type AdminServerOptions,
} from './server.ts'
export type { LiveOptions } from './live.ts'
export type { ActorNameOptions, ActorNames } from './actor-names.ts'
// The answers' shapes, from the route schemas (types only: Hono loads where the API is served).
export type {
  ActionAnswerBody,
  BulkRedriveAnswerBody,
  ChainAnswer,
  ConsumerGroupSummaryAnswer,
  DlqEntryAnswer,
  DlqEntryDetailAnswer,
  DlqPageAnswer,
  OperationPageAnswer,
  SessionAnswer,
  SubjectSummaryAnswer,
} from './schemas.ts'
// The flow of each subject's answers (`/api/flow`, `/api/flow/subjects/{subject}`).
export type { FlowGraphAnswer, SubjectChainAnswer } from './schemas.ts'
export type { FlowGraph as FlowGraphSchema, SubjectChain as SubjectChainSchema } from './schemas.ts'
export { parseApiKeys, type ApiKey, type ApiKeyRole } from './credentials.ts'
export type { PartitionChange, PartitionLoad, PartitionStatus } from '../ordering/partitions.ts'
export {
  listOperations,
  type ConsumerGroupSummary,
  type OperationList,
  type OperationQuery,
  type SubjectSummary,
} from './views.ts'
export { productIndexes } from '../indexes.ts'
export { ensureIndexes, type IndexDeclaration, type StoreCollection } from '../store/indexes.ts'
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
} from '../dlq/manage.ts'
export {
  operationChain,
  type AttemptTiming,
  type OperationChain,
} from '../store/operation-chain.ts'
export {
  type EventSelection,
  type EventSource,
  type ReplayOptions,
  type ReplayResult,
} from '../replay/replay.ts'
export {
  migrateEvents,
  type MigrateOptions,
  type MigrationGroup,
  type MigrationReport,
} from '../version/migrate.ts'
export {
  migrateFramework,
  type FrameworkMigrationOptions,
  type FrameworkMigrationReport,
} from '../version/framework-migration.ts'
export {
  createArchiver,
  s3Client,
  startArchiver,
  type ArchiveKeep,
  type Archiver,
} from '../archive/archiver.ts'
export {
  decodeObject,
  jsonLine,
  type ArchiveKindName,
  type ArchiveLocation,
  type ArchiveManifest,
} from '../archive/layout.ts'
export { readArchivedEvents, type ArchivedEventQuery } from '../archive/read.ts'
export {
  archiveStreamHead,
  type ArchiveHeadOptions,
  type ArchiveHeadResult,
  type StreamArchive,
} from '../event-sourcing/archive-head.ts'
export { sweepExpired } from '../retention/retention.ts'
export { alertMessage } from '../alert/dlq-alerts.ts'
export { loadSigningSecret, signedPublisher } from '../publish/signature.ts'
export {
  connectEventStore,
  eventStore,
  type ArchiveBatchRecord,
  type ArchiveClaimRecord,
  type AlertClaimRecord,
  type AttemptError,
  type ChangeClaimRecord,
  type StreamAppendRecord,
  type StreamEntry,
  type StreamSnapshotRecord,
  type ChangeMark,
  type DlqAction,
  type DlqActionClaim,
  type DlqRecord,
  type DlqStatus,
  type EventRecord,
  type EventStore,
  type FailureRecord,
  type Formatted,
  type FlowEdgeKind,
  type FlowStatRecord,
  type FrameworkKeyRecord,
  type OperationEndRecord,
  type OperationRecord,
  type PendingAlertRecord,
  type ProcessedRecord,
} from '../store/event-store.ts'
export { JetStreamCodes, MongoCodes } from '../server-codes.ts'
// The schemas the answer types come from (types only: nothing here loads zod).
export type {
  ActionAnswer as ActionAnswerSchema,
  BulkRedriveAnswer as BulkRedriveAnswerSchema,
  Chain as ChainSchema,
  ConsumerGroupSummary as ConsumerGroupSummarySchema,
  DlqEntry as DlqEntrySchema,
  DlqEntryDetail as DlqEntryDetailSchema,
  DlqPage as DlqPageSchema,
  OperationPage as OperationPageSchema,
  Session as SessionSchema,
  SubjectSummary as SubjectSummarySchema,
} from './schemas.ts'
