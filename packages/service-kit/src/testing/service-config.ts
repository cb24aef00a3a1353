import type { TestNamespace, TestServers } from '@event-driven/testing'
import type { ServiceConfig } from '../config.ts'

/**
 * For this package's integration tests: a service config on the test servers, with every name
 * (databases, stream, subjects, RPC) inside the test file's namespace; `overrides` win.
 */
export function testServiceConfig(
  servers: TestServers,
  ns: TestNamespace,
  overrides: Partial<ServiceConfig> = {},
): ServiceConfig {
  return {
    nats: { servers: servers.natsUrl },
    mongodbUrl: servers.mongodbUrl,
    databasePrefix: `${ns.database}_`,
    stream: { name: `${ns.subjectPrefix}_EVENTS`, subjectPrefix: ns.subjectPrefix },
    rpcPrefix: `${ns.subjectPrefix}_rpc`,
    rpcTimeoutMs: 5_000,
    authSecret: 'test-secret',
    authSecretIsDevelopmentDefault: false,
    host: '127.0.0.1',
    port: 0,
    retryBaseDelayMs: 50,
    ...overrides,
  }
}
