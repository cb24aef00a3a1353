export { configFromEnv, eventStoreDatabase, type ServiceConfig } from './config.ts'
export { createRuntime, type ServiceRuntime } from './runtime.ts'
export {
  probeHandler,
  probeServerDefaults,
  readinessOf,
  startProbeServer,
  type MetricsAnswer,
  type ProbeServer,
  type ProbeServerOptions,
  type Readiness,
  type ReadinessAnswer,
  type ReadinessCheck,
} from './probe-server.ts'
export { probePortOfPart, probeSettingsFromEnv, type ProbeSettings } from './probe-config.ts'
export {
  gatewayHealth,
  runtimeHealth,
  type GatewayHealth,
  type RuntimeHealth,
} from './process-health.ts'
export { createLogger, logsForPeople } from './logger.ts'
export {
  loadRpcSettings,
  parseInput,
  requireActor,
  requireWebhook,
  rpcClient,
  serveRpc,
  ServiceError,
  type Actor,
  type CallInfo,
  type RpcCallOptions,
  type RpcClient,
  type RpcMethod,
  type RpcSettings,
  type WebhookCall,
} from './rpc.ts'
export {
  gatewayPermissions,
  inboxPrefixOf,
  jwtPermissions,
  natsAuthorizationConfig,
  operatorPermissions,
  servicePermissions,
  unionOf,
  type NatsPermissions,
  type NatsUser,
  type SystemSubjects,
} from './nats-permissions.ts'
export {
  requestFreshnessMs,
  requestSignatureHeader,
  requestSigner,
  type RequestCheck,
  type RequestSigner,
} from './request-signature.ts'
export { hashPassword, signToken, verifyPassword, verifyToken } from './auth.ts'
export { startGateway, type Gateway, type GatewayOptions } from './gateway.ts'
export {
  defaultGatewayLimits,
  gatewayLimitCodes,
  gatewayLimitEnvNames,
  gatewayLimitsFromEnv,
  type GatewayLimits,
} from './gateway-limits.ts'
export { operationChainForGraphQL, operationTypeDefs } from './operation-chain.ts'
export {
  defineServiceModule,
  type GatewayContext,
  type GatewayPiece,
  type Resolver,
  type RunningService,
  type ServiceCall,
  type ServiceModule,
  type WebhookRoute,
} from './module.ts'
export {
  checkWebhookSignature,
  developmentWebhookSecret,
  signedWebhookHeaders,
  signWebhook,
  webhookIdHeader,
  webhookKey,
  webhookSignatureHeader,
  webhookTimestampHeader,
  webhookToleranceMs,
  type WebhookCheck,
  type WebhookDelivery,
  type WebhookSignatureHeaders,
} from './webhook-signature.ts'
export {
  webhookNamePattern,
  webhookSecretEnvName,
  webhookSecretOf,
  type WebhookSecret,
} from './webhook-secrets.ts'
export { defaultWebhookBodyBytes } from './webhook-request.ts'
export {
  checkTimerOptions,
  startTimer,
  timerOperationId,
  type Timer,
  type TimerHost,
  type TimerOptions,
  type TimerTask,
  type TimerTick,
} from './timer.ts'
