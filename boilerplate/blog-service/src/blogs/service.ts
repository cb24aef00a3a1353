import { newId } from '@event-driven/core'
import {
  ServiceError,
  createRuntime,
  defineServiceModule,
  parseInput,
  requireActor,
  type Actor,
  type CallInfo,
  type ServiceConfig,
  type ServiceRuntime,
} from '@event-driven/service-kit'
import type { Logger } from 'pino'
import { blogsGateway } from './gateway.ts'
import { z } from 'zod'
import { authorCopies } from '../shared/author-copies.ts'
import { BlogAuthorUpdated, BlogCreated, CommentCreated } from '../shared/events.ts'
import { digestEveryMs, startDigest } from './digest.ts'

interface BlogDocument {
  _id: string
  title: string
  content: string
  authorId: string
  commentCount: number
  createdAt: Date
}

const title = z.string().trim().min(1, 'must not be empty').max(200, 'at most 200 characters')
const content = z.string().max(100_000, 'at most 100,000 characters')
const CreateInput = z.object({ title, content })
const UpdateInput = z.object({
  id: z.string(),
  title: title.optional(),
  content: content.optional(),
})
const GetInput = z.object({ id: z.string() })

/**
 * The blogs service: blogs, its copy of their authors, their comment counts, and a digest timer.
 * Consumes User.registered, User.nameUpdated (→ Blog.authorUpdated) and Comment.created;
 * publishes Blog.digestCompiled once per tick of `BLOG_DIGEST_EVERY_MS` (see `digest.ts`).
 */
async function startBlogs(config: ServiceConfig, logger: Logger): Promise<ServiceRuntime> {
  const everyMs = digestEveryMs() // a bad value stops the start before anything connects
  const runtime = await createRuntime('blogs', config, logger)
  const blogs = runtime.db.collection<BlogDocument>('blogs')
  // The digest counts blogs by creation time, and the list sorts by it.
  await blogs.createIndex({ createdAt: 1 })
  const authors = authorCopies(runtime, async (user, ctx) => {
    await ctx.publish(BlogAuthorUpdated, {
      authorId: user.userId,
      nameVersion: user.nameVersion,
      blogs: await blogs.countDocuments({ authorId: user.userId }),
    })
  })
  const toBlog = async (doc: BlogDocument) => ({
    id: doc._id,
    title: doc.title,
    content: doc.content,
    commentCount: doc.commentCount,
    author: await authors.get(doc.authorId),
  })

  runtime.core.on(CommentCreated, { handler: 'countComment' }, async (event) => {
    await blogs.updateOne({ _id: event.data.blogId }, { $inc: { commentCount: 1 } })
  })

  const create = async (input: unknown, actor: Actor, call: CallInfo) => {
    const { userId } = requireActor(actor)
    const data = parseInput(CreateInput, input)
    const blog: BlogDocument = {
      _id: newId(),
      ...data,
      authorId: userId,
      commentCount: 0,
      createdAt: new Date(),
    }
    const op = await runtime.core.startOperation({
      id: call.operationId,
      name: 'blogCreate',
      input: { title: data.title },
      actor: userId,
    })
    await blogs.insertOne(blog)
    await op.publish(BlogCreated, { blogId: blog._id, authorId: userId, title: blog.title })
    await op.complete()
    return { operationId: op.id, blog: await toBlog(blog) }
  }

  const update = async (input: unknown, actor: Actor, call: CallInfo) => {
    const { userId } = requireActor(actor)
    const { id, ...changes } = parseInput(UpdateInput, input)
    const blog = await blogs.findOne({ _id: id })
    if (!blog) throw new ServiceError('NOT_FOUND', `no blog ${id}`, 'id')
    if (blog.authorId !== userId)
      throw new ServiceError('FORBIDDEN', 'only the author can update a blog')
    const op = await runtime.core.startOperation({
      id: call.operationId,
      name: 'blogUpdate',
      input: { id, ...changes },
      actor: userId,
    })
    const updated = await blogs.findOneAndUpdate(
      { _id: id },
      { $set: changes },
      { returnDocument: 'after' },
    )
    await op.complete()
    return { operationId: op.id, blog: await toBlog(updated!) }
  }

  startDigest(
    runtime,
    (from, to) => blogs.countDocuments({ createdAt: { $gte: from, $lt: to } }),
    everyMs,
  )
  await runtime.start({
    create,
    update,
    get: async (input) => {
      const blog = await blogs.findOne({ _id: parseInput(GetInput, input).id })
      return blog ? toBlog(blog) : null
    },
    list: async () =>
      Promise.all((await blogs.find().sort({ createdAt: -1 }).limit(100).toArray()).map(toBlog)),
  })
  return runtime
}

export const blogs = defineServiceModule({
  name: 'blogs',
  start: startBlogs,
  gateway: blogsGateway,
})
