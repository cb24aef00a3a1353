import {
  createRuntime,
  defineServiceModule,
  type ServiceConfig,
  type ServiceRuntime,
} from '@event-driven/service-kit'
import type { Logger } from 'pino'
import { authorCopies } from '../shared/author-copies.ts'
import { BlogAuthorUpdated, CommentCreated } from '../shared/events.ts'
import { blogAuthorNames } from './author-names.ts'
import { blogFold, decideCountComment, defineBlogStreams } from './blog-stream.ts'
import { digestEveryMs, startDigest } from './digest.ts'
import { blogsGateway } from './gateway.ts'
import { blogMethods, maxAttempts } from './methods.ts'
import { migrateBlogs } from './migrate.ts'
import { blogReadModel } from './read-model.ts'

/**
 * The blogs service: blogs, its copy of their authors, and a digest timer. Each blog is a stream
 * (`blog:<id>`, see `blog-stream.ts`); `get` folds it, so a blog reads as written, and the list
 * and the digest read the `blogs` read model (`read-model.ts`). Consumes User.registered,
 * User.nameUpdated (→ Blog.authorNameChanged in each of the author's blogs, then
 * Blog.authorUpdated) and Comment.created (→ Blog.commentCounted); publishes
 * Blog.digestCompiled once per tick of `BLOG_DIGEST_EVERY_MS` (see `digest.ts`). Blogs written
 * before blogs had streams are given theirs at start (`migrate.ts`).
 */
async function startBlogs(config: ServiceConfig, logger: Logger): Promise<ServiceRuntime> {
  const everyMs = digestEveryMs() // a bad value stops the start before anything connects
  const runtime = await createRuntime('blogs', config, logger)
  const streams = defineBlogStreams(runtime.core)
  const readModel = blogReadModel(runtime, streams)
  await readModel.createIndexes()
  const authors = authorCopies(runtime, async (name, ctx) => {
    await authorNames.renamed(name, ctx)
    await ctx.publish(BlogAuthorUpdated, {
      authorId: name.userId,
      nameVersion: name.nameVersion,
      blogs: await readModel.docs.countDocuments({ authorId: name.userId }),
    })
  })
  const authorNames = blogAuthorNames(streams, readModel, authors)
  readModel.projectEvents((blog, ctx) => authorNames.catchUp(blog, ctx))

  runtime.core.on(CommentCreated, { handler: 'countComment' }, async (event, ctx) => {
    const { blogId, commentId } = event.data
    await ctx.handleCommand(
      streams.name(blogId),
      { ...blogFold, decide: (blog) => decideCountComment(blog, { blogId, commentId }) },
      { maxAttempts },
    )
  })

  // Before serving or consuming: every blog has its stream.
  try {
    const migrated = await migrateBlogs(runtime, streams, readModel, authors)
    if (migrated.operationId)
      runtime.logger.info(
        { service: 'blogs', ...migrated },
        'blogs written before blogs had streams were given their streams (operation blogMigrate)',
      )
  } catch (error) {
    await runtime.stop()
    throw error
  }
  startDigest(runtime, readModel.countCreated, everyMs)
  await runtime.start(blogMethods(runtime, streams, readModel, authors))
  return runtime
}

export const blogs = defineServiceModule({
  name: 'blogs',
  start: startBlogs,
  gateway: blogsGateway,
})
