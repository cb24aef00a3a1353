import { join } from 'node:path'
import {
  eventually,
  freePort,
  startNodeProcess,
  type NodeProcess,
  type TestNamespace,
  type TestServers,
} from '@event-driven/testing'

/** The environment that puts a blog service run inside a test namespace. */
export function blogEnv(
  ns: TestNamespace,
  servers: TestServers,
  port: number,
  extra: Record<string, string> = {},
) {
  return {
    NATS_URL: servers.natsUrl,
    MONGODB_URL: servers.mongodbUrl,
    DATABASE_PREFIX: `${ns.database}_`,
    EVENTS_STREAM: `${ns.subjectPrefix}_EVENTS`,
    EVENTS_SUBJECT_PREFIX: ns.subjectPrefix,
    RPC_PREFIX: `${ns.subjectPrefix}_rpc`,
    AUTH_SECRET: 'test-secret',
    PORT: String(port),
    RETRY_BASE_DELAY_MS: '50',
    LOG_LEVEL: 'warn',
    // No digest ticks: a test that counts operations would count them too (flow.e2e turns it on).
    BLOG_DIGEST_EVERY_MS: '0',
    ...extra,
  }
}

/**
 * Runs `node src/main.ts <args>` (this one, or `main` of another checkout) and waits until it
 * printed `ready` for each expected part.
 */
export async function startBlogProcess(
  args: string[],
  env: Record<string, string>,
  parts: string[],
  main = join(import.meta.dirname, '../main.ts'),
): Promise<NodeProcess> {
  const blog = startNodeProcess(main, args, env)
  await eventually(
    () => {
      const output = blog.output()
      if (blog.child.exitCode !== null) {
        throw new Error(`blog service exited (${blog.child.exitCode}):\n${output}`)
      }
      for (const part of parts) {
        if (!new RegExp(`ready: .*\\b${part}\\b`).test(output))
          throw new Error(`${part} not ready:\n${output}`)
      }
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  )
  return blog
}

/** A GraphQL call over HTTP: the data, or the errors with their codes. */
export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<{
  data: T | null
  errors?: {
    message: string
    extensions?: { code?: string; field?: string; operationId?: string }
  }[]
}> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  })
  return (await response.json()) as {
    data: T | null
    errors?: { message: string; extensions?: { code?: string } }[]
  }
}

export { freePort }
