import { readFileSync } from 'node:fs'
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type ConnectionOptions,
  type NatsConnection,
} from '@nats-io/transport-node'
import { ConfigurationError } from './errors.ts'

/**
 * How to reach NATS when it asks who you are. Give one way to authenticate (user and password, a
 * token, an nkey, or a creds file), and TLS when the server requires it or is reached over a
 * network you do not trust. `docs/security.md` lists the permissions each user needs.
 */
export interface NatsOptions {
  /** One URL or several (a cluster): `nats://host:4222`, `tls://host:4222`. */
  servers: string | string[]
  user?: string
  pass?: string
  token?: string
  /** A file holding an nkey seed (`SU…`), the user's private key: the server knows its public key. */
  nkeySeedFile?: string
  /** A creds file (a user JWT and its nkey seed), for servers in operator (JWT) mode. */
  credsFile?: string
  /**
   * Where replies to this client go: `<prefix>.<random>`. Give each user its own (and allow it
   * only that in its permissions), so no other user can read the answers it gets. Default `_INBOX`.
   */
  inboxPrefix?: string
  /** TLS: the CA that signed the server's certificate, and a client certificate if it asks for one. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string; handshakeFirst?: boolean }
}

/** A NATS URL, connection settings, or an open connection (which its user keeps and closes). */
export type NatsTarget = string | NatsOptions | NatsConnection

export function isNatsConnection(target: NatsTarget): target is NatsConnection {
  return typeof target === 'object' && 'publish' in target
}

/** nats.js connection options for these settings; files are read now, so a typo fails at once. */
export function natsConnectionOptions(options: NatsOptions): ConnectionOptions {
  const ways = [
    options.user !== undefined || options.pass !== undefined,
    options.token !== undefined,
    options.nkeySeedFile !== undefined,
    options.credsFile !== undefined,
  ].filter(Boolean).length
  if (ways > 1)
    throw new ConfigurationError(
      'NATS: give one way to authenticate (user and password, token, nkey seed file or creds file), not several',
    )
  if ((options.user === undefined) !== (options.pass === undefined))
    throw new ConfigurationError('NATS: a user needs a password, and a password a user')
  return {
    servers: options.servers,
    ...(options.user !== undefined ? { user: options.user, pass: options.pass } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.nkeySeedFile
      ? {
          authenticator: nkeyAuthenticator(
            new TextEncoder().encode(readSecretFile(options.nkeySeedFile, 'nkey seed').trim()),
          ),
        }
      : {}),
    ...(options.credsFile
      ? {
          authenticator: credsAuthenticator(
            new TextEncoder().encode(readSecretFile(options.credsFile, 'creds')),
          ),
        }
      : {}),
    ...(options.inboxPrefix ? { inboxPrefix: options.inboxPrefix } : {}),
    ...(options.tls ? { tls: tlsOptions(options.tls) } : {}),
  }
}

function tlsOptions(tls: NonNullable<NatsOptions['tls']>): NonNullable<ConnectionOptions['tls']> {
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined))
    throw new ConfigurationError(
      'NATS TLS: a client certificate needs its key, and a key its certificate',
    )
  for (const [what, file] of [
    ['CA', tls.caFile],
    ['certificate', tls.certFile],
    ['key', tls.keyFile],
  ] as const)
    if (file !== undefined) readSecretFile(file, `TLS ${what}`)
  return { ...tls }
}

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigurationError(
      `NATS: cannot read the ${what} file ${path}: ${(error as Error).message}`,
    )
  }
}

/**
 * Connects for a process that keeps going: it reconnects forever (a broker restart is waited
 * out, never fatal) and names itself so the server's monitoring shows who is connected.
 */
export function connectToNats(
  options: string | NatsOptions,
  name: string,
): Promise<NatsConnection> {
  return connect({
    ...natsConnectionOptions(typeof options === 'string' ? { servers: options } : options),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // Errors keep their own stack; capturing the caller's on every publish costs ~5% CPU.
    noAsyncTraces: true,
  })
}

/**
 * NATS settings from the environment: `NATS_URL` (several: comma-separated), then one of
 * `NATS_USER` + `NATS_PASSWORD`, `NATS_TOKEN`, `NATS_NKEY_SEED_FILE`, `NATS_CREDS_FILE`, and
 * `NATS_TLS_CA_FILE`, `NATS_TLS_CERT_FILE` + `NATS_TLS_KEY_FILE`, `NATS_TLS_HANDSHAKE_FIRST=1`,
 * and `NATS_INBOX_PREFIX`.
 */
export function natsOptionsFromEnv(env: NodeJS.ProcessEnv, url = env.NATS_URL): NatsOptions {
  if (!url) throw new ConfigurationError('NATS_URL is not set')
  const set = (name: string) => (env[name] ? env[name] : undefined)
  const servers = url.split(',').map((server) => server.trim())
  const tls = {
    ...(set('NATS_TLS_CA_FILE') ? { caFile: set('NATS_TLS_CA_FILE') } : {}),
    ...(set('NATS_TLS_CERT_FILE') ? { certFile: set('NATS_TLS_CERT_FILE') } : {}),
    ...(set('NATS_TLS_KEY_FILE') ? { keyFile: set('NATS_TLS_KEY_FILE') } : {}),
    ...(env.NATS_TLS_HANDSHAKE_FIRST === '1' ? { handshakeFirst: true } : {}),
  }
  return {
    servers: servers.length === 1 ? servers[0]! : servers,
    ...(set('NATS_USER') ? { user: set('NATS_USER') } : {}),
    ...(set('NATS_PASSWORD') ? { pass: set('NATS_PASSWORD') } : {}),
    ...(set('NATS_TOKEN') ? { token: set('NATS_TOKEN') } : {}),
    ...(set('NATS_NKEY_SEED_FILE') ? { nkeySeedFile: set('NATS_NKEY_SEED_FILE') } : {}),
    ...(set('NATS_CREDS_FILE') ? { credsFile: set('NATS_CREDS_FILE') } : {}),
    ...(set('NATS_INBOX_PREFIX') ? { inboxPrefix: set('NATS_INBOX_PREFIX') } : {}),
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
  }
}
