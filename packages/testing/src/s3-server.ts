import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { S3Server } from './servers.ts'
import { serverBinary, startOwnServer, type OwnServer } from './own-server.ts'

/** An S3 server (versitygw) of a test's own, to stop and start; objects stay across restarts. */
export interface S3ServerProcess extends OwnServer {
  s3: S3Server
}

/**
 * Starts versitygw on a free loopback port, with the same credentials as the shared local one.
 * Needs the binary: `VERSITYGW_BIN`, which `pnpm infra:up` prints.
 */
export async function startS3Server(
  env: NodeJS.ProcessEnv = process.env,
): Promise<S3ServerProcess> {
  const s3: Omit<S3Server, 'endpoint'> = {
    region: 'us-east-1',
    accessKeyId: 'test',
    secretAccessKey: 'testsecret',
  }
  const server = await startOwnServer({
    name: 'versitygw',
    command: serverBinary(env, 'VERSITYGW_BIN', 'S3'),
    // --sidecar: metadata beside the objects, not in xattrs (see infra/local/servers.sh).
    args: (port, dir) => [
      '--port',
      `127.0.0.1:${port}`,
      'posix',
      '--sidecar',
      join(dir, 'metadata'),
      join(dir, 'objects'),
    ],
    env: { ROOT_ACCESS_KEY: s3.accessKeyId, ROOT_SECRET_KEY: s3.secretAccessKey },
    prepare: async (dir) => {
      await mkdir(join(dir, 'metadata'))
      await mkdir(join(dir, 'objects'))
    },
  })
  return { ...server, s3: { ...s3, endpoint: `http://127.0.0.1:${server.port}` } }
}
