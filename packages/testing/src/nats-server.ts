import { serverBinary, startOwnServer, type OwnServer } from './own-server.ts'

/** A nats-server of a test's own, to stop and start; JetStream data stays across restarts. */
export interface NatsServerProcess extends OwnServer {
  url: string
}

/**
 * Starts a nats-server with JetStream on a free loopback port. Needs the binary: `NATS_SERVER_BIN`,
 * which `pnpm infra:up` prints.
 */
export async function startNatsServer(
  env: NodeJS.ProcessEnv = process.env,
): Promise<NatsServerProcess> {
  const server = await startOwnServer({
    name: 'nats-server',
    command: serverBinary(env, 'NATS_SERVER_BIN', 'a broker'),
    args: (port, dir) => ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir],
  })
  return { ...server, url: `nats://127.0.0.1:${server.port}` }
}
