export {
  createService,
  type ConsumerGroupInfo,
  type Service,
  type ServiceOptions,
} from './service.ts'
export { resolveServiceOptions, serviceDefaults, type ResolvedServiceOptions } from './options.ts'
export type { ResolvedStreamOptions } from './streams.ts'
export type { Redelivery } from './publish/wire.ts'
export { serviceNamePattern, subjectPattern } from './names.ts'
export {
  connectToNats,
  natsOptionsFromEnv,
  type NatsOptions,
  type NatsTarget,
} from './nats-connection.ts'
export {
  defineEvent,
  readEventData,
  type DefineEventOptions,
  type EventData,
  type EventDefinition,
} from './event-definition.ts'
export { UnknownVersionError, type Upcaster, type Upcasters } from './version/upcast.ts'
export {
  currentFormat,
  previousFormat,
  formatOf,
  unreadableFormat,
  FormatError,
  type WritableFormat,
} from './version/formats.ts'
export { archiveOptionsFromEnv } from './archive/env.ts'
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
export type { EventStreams, StreamWriter } from './event-sourcing/streams.ts'
export {
  maxEventsPerAppend,
  type AppendOptions,
  type AppendResult,
  type ExpectedStreamPosition,
} from './event-sourcing/append.ts'
export type { CommandOptions, CommandResult, Decider } from './event-sourcing/command.ts'
export type { AggregateOptions, AggregateResult } from './event-sourcing/fold.ts'
export type { SnapshotOptions } from './event-sourcing/snapshots.ts'
export type { ArchiveHeadOptions, ArchiveHeadResult } from './event-sourcing/archive-head.ts'
export type { ReadStreamOptions, ReadStreamResult } from './event-sourcing/read.ts'
export type {
  AnyEventDefinition,
  AnyNewStreamEvent,
  NewStreamEvent,
  StreamEvent,
  StreamEventOf,
  StreamName,
  StreamType,
  StreamTypeOptions,
} from './event-sourcing/stream-types.ts'
export type {
  EventHandler,
  HandlerContext,
  HandlerOptions,
  ReceivedEvent,
} from './consume/handler.ts'
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
  StreamNameError,
  type ErrorCode,
} from './errors.ts'
export type { AlertOptions } from './alert/dlq-alerts.ts'
export type { ArchiveOptions } from './archive/archiver.ts'
export type { RetentionOptions } from './retention/retention.ts'
export type { RetryPolicy } from './consume/retry.ts'
export type { StreamDifference, StreamOptions } from './streams.ts'
export type { EventRecord } from './store/event-store.ts'
export { newId } from './ids.ts'
export {
  judgeHealth,
  type ConsumerGroupState,
  type HealthInputs,
  type ServiceHealth,
  type ServiceLifecycle,
} from './health/service-health.ts'
export { watchNatsState, type NatsState, type NatsStateWatch } from './health/nats-state.ts'
export {
  cachedMongoPing,
  mongoPingDefaults,
  type MongoCheck,
  type MongoPingOptions,
} from './health/mongo-ping.ts'
export { isDuplicateKey } from './store/insert-new.ts'
export {
  otherGraphqlLabel,
  otherSubject,
  type DeliveryOutcome,
  type GatewayMetrics,
  type GraphqlRequest,
  type HandlerRun,
  type PublishedEvent,
  type ServiceMetrics,
  type SettledDelivery,
} from './observe/metrics.ts'
export {
  prometheusMetrics,
  type MetricsText,
  type PrometheusMetrics,
  type PrometheusMetricsOptions,
} from './observe/prometheus.ts'
export type { FlowOptions } from './observe/flow/recorder.ts'
export {
  openTelemetryTracing,
  instrumentationScope,
  type OpenTelemetryTracingOptions,
  type ServiceTracing,
  type SpanAttributes,
  type SpanKind,
  type SpanStart,
  type TraceSpan,
} from './observe/tracing.ts'
export {
  readTraceContext,
  traceHeaders,
  traceIdOf,
  type TraceContext,
} from './observe/trace-context.ts'
export type { SystemSource } from './observe/system-figures.ts'
