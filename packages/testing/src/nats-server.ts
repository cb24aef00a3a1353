import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { serverBinary, startOwnServer, type OwnServer } from './own-server.ts'

/** A nats-server of a test's own, to stop and start; JetStream data stays across restarts. */
export interface NatsServerProcess extends OwnServer {
  url: string
  /** The folder holding its data (and its configuration file, when it has one). */
  dir: string
}

export interface NatsServerOptions {
  /**
   * Configuration text (authorization, TLS, …), given the server's folder to put files in. The
   * port, address and JetStream folder stay the test's own.
   */
  config?: (dir: string) => string | Promise<string>
  /** The URL scheme clients use: `tls` when the configuration turns TLS on. Default `nats`. */
  scheme?: 'nats' | 'tls'
}

/**
 * Starts a nats-server with JetStream on a free loopback port. Needs the binary: `NATS_SERVER_BIN`,
 * which `pnpm infra:up` prints.
 */
export async function startNatsServer(
  env: NodeJS.ProcessEnv = process.env,
  options: NatsServerOptions = {},
): Promise<NatsServerProcess> {
  let folder = ''
  const server = await startOwnServer({
    name: 'nats-server',
    command: serverBinary(env, 'NATS_SERVER_BIN', 'a broker'),
    prepare: async (dir) => {
      folder = dir
      if (options.config) await writeFile(join(dir, 'server.conf'), await options.config(dir))
    },
    args: (port, dir) => [
      ...(options.config ? ['-c', join(dir, 'server.conf')] : []),
      '-js',
      '-a',
      '127.0.0.1',
      '-p',
      String(port),
      '-sd',
      dir,
    ],
  })
  return { ...server, dir: folder, url: `${options.scheme ?? 'nats'}://127.0.0.1:${server.port}` }
}
