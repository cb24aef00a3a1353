// #region
import { createService, defineEvent } from '@event-driven/core'
import { z } from 'zod'

const UserNameUpdated = defineEvent({
  subject: 'User.nameUpdated',
  version: 1,
  schema: z.object({ userId: z.string(), firstName: z.string(), lastName: z.string() }),
})
const BlogAuthorUpdated = defineEvent({
  subject: 'Blog.authorUpdated',
  version: 1,
  schema: z.object({ blogId: z.string(), authorName: z.string() }),
})

const blogs = await createService({
  name: 'blogs',
  nats: process.env.NATS_URL!,
  mongodb: process.env.MONGODB_URL!,
})
blogs.on(UserNameUpdated, { handler: 'updateAuthorName' }, async (event, ctx) => {
  // event.data is typed and validated; ctx.signal aborts when the handler passes its timeout
  await ctx.publish(BlogAuthorUpdated, { blogId: 'b1', authorName: event.data.firstName })
})
await blogs.start()

const userId = 'user-1' // who asks: the operation's actor
const names = { firstName: 'Ada', lastName: 'Lovelace' }
const op = await blogs.startOperation({ name: 'userUpdateNames', input: names, actor: userId })
await op.publish(UserNameUpdated, { userId, ...names })
await op.complete()

await blogs.stop() // drains in-flight handlers (`stopOnSignals: true` does it on SIGTERM/SIGINT)
// #endregion
