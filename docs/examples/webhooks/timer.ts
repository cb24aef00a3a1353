import { defineEvent } from '@event-driven/core'
import type { ServiceRuntime } from '@event-driven/service-kit'
import type { Collection } from 'mongodb'
import { z } from 'zod'

// What the block in the docs assumes: the blogs service's runtime and collection, its event.
declare const runtime: ServiceRuntime
declare const blogs: Collection<{ createdAt: Date }>
const BlogDigestCompiled = defineEvent({
  subject: 'Blog.digestCompiled',
  version: 1,
  schema: z.object({ from: z.string(), to: z.string(), blogsCreated: z.number().int() }),
})

// #region
// Every minute, on one blogs instance: operation `timer.blogs.blogDigest.<tick>`.
runtime.every({ name: 'blogDigest', intervalMs: 60_000 }, async (op, tick) => {
  // One tick late: a blog's createdAt is taken before its insert lands, which may be after its
  // tick ended; a tick later it is there.
  const to = tick.previousAt
  const from = new Date(to.getTime() - 60_000)
  const blogsCreated = await blogs.countDocuments({ createdAt: { $gte: from, $lt: to } })
  if (blogsCreated > 0)
    await op.publish(BlogDigestCompiled, {
      from: from.toISOString(),
      to: to.toISOString(),
      blogsCreated,
    })
}) // a throw fails the tick's operation with its message; the next tick runs as planned
await runtime.start({}) // timers tick from start() until stop(), which waits for a running tick
// #endregion
