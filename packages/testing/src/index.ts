export { containerRuntimeCheck, type ContainerRuntimeCheck } from './container-runtime.ts'
export { dockerEngineAnswers } from './docker.ts'
export { eventually, type EventuallyOptions } from './eventually.ts'
export { createS3Client, createTestNamespace, type TestNamespace } from './namespace.ts'
export {
  getTestServers,
  NoTestServersError,
  type GetTestServersOptions,
  type S3Server,
  type ServerSource,
  type TestServers,
} from './servers.ts'
export {
  startSlackReceiver,
  type ReceivedPost,
  type SlackReceiver,
  type SlackReceiverOptions,
} from './slack-receiver.ts'
export { startNatsServer, type NatsServerOptions, type NatsServerProcess } from './nats-server.ts'
export { startNatsCluster, type NatsCluster, type NatsClusterNode } from './nats-cluster.ts'
export { startS3Server, type S3ServerProcess } from './s3-server.ts'
export type { OwnServer } from './own-server.ts'
export {
  runCommand,
  startNodeProcess,
  startProcess,
  terminalEnv,
  type CommandResult,
  type NodeProcess,
} from './node-process.ts'
export { freePort, portAccepts } from './ports.ts'
export { startTcpProxy, type TcpProxy } from './tcp-proxy.ts'
export { rawPublish } from './raw-nats.ts'
export {
  testHandler,
  type HandlerOutcome,
  type HandlerRun,
  type HandlerTest,
  type PublishedEvent,
  type TestEvent,
  type TestHandlerOptions,
} from './handler-test.ts'
export {
  prometheusBinary,
  promtoolCheck,
  startPrometheus,
  type PrometheusServer,
  type PromtoolVerdict,
  type ScrapeJob,
} from './prometheus.ts'
export { jaegerBinary, startJaeger, type Jaeger, type JaegerSpan } from './jaeger.ts'
