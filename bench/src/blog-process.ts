import { join } from 'node:path'
import { eventually, freePort, startNodeProcess, type NodeProcess } from '@event-driven/testing'
import type { BenchContext } from './context.ts'

// `BENCH_BLOG_MAIN` measures another checkout's blog service (a before-and-after comparison).
const blogMain =
  process.env.BENCH_BLOG_MAIN ??
  join(import.meta.dirname, '../../boilerplate/blog-service/src/main.ts')

/** The blog service's environment for one benchmark scope, on a free port. */
export async function blogEnv(ctx: BenchContext, scope: string, mongodbUrl = ctx.mongodbUrl) {
  const names = ctx.scope(scope)
  const port = await freePort()
  return {
    NATS_URL: ctx.natsUrl,
    MONGODB_URL: mongodbUrl,
    DATABASE_PREFIX: `${names.database}_`,
    EVENTS_STREAM: names.stream,
    EVENTS_SUBJECT_PREFIX: names.subjectPrefix,
    RPC_PREFIX: `${names.subjectPrefix}_rpc`,
    AUTH_SECRET: 'bench-secret',
    // The moderation webhook needs its secret outside development; the digest timer stays off,
    // so its ticks do not add to what is measured.
    WEBHOOK_SECRET_MODERATION: 'whsec_YmVuY2gtd2ViaG9vay1zZWNyZXQtMzItYnl0ZXMh',
    BLOG_DIGEST_EVERY_MS: '0',
    PORT: String(port),
    LOG_LEVEL: 'warn',
  }
}

/** Starts the blog service (all of it, one process) and resolves once its gateway is ready. */
export async function startBlog(
  env: Record<string, string>,
  { timeoutMs = 60_000, intervalMs = 100 } = {},
): Promise<NodeProcess> {
  const blog = startNodeProcess(blogMain, [], env)
  try {
    await eventually(
      () => {
        if (blog.child.exitCode !== null)
          throw new Error(`the blog service exited:\n${blog.output()}`)
        if (!/ready: .*gateway/.test(blog.output())) throw new Error('not ready')
      },
      { timeoutMs, intervalMs },
    )
    return blog
  } catch (error) {
    await blog.stop()
    throw error
  }
}
