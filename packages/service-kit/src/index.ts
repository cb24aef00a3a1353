export { configFromEnv, eventStoreDatabase, type ServiceConfig } from './config.ts'
export { createRuntime, type ServiceRuntime } from './runtime.ts'
export { createLogger, logsForPeople } from './logger.ts'
export {
  loadRpcSettings,
  parseInput,
  requireActor,
  rpcClient,
  serveRpc,
  ServiceError,
  type Actor,
  type CallInfo,
  type RpcCallOptions,
  type RpcClient,
  type RpcMethod,
  type RpcSettings,
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
} from './module.ts'
