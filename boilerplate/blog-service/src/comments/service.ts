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
import { commentsGateway } from './gateway.ts'
import { z } from 'zod'
import { authorCopies } from '../shared/author-copies.ts'
import { CommentAuthorUpdated, CommentCreated } from '../shared/events.ts'

interface CommentDocument {
  _id: string
  blogId: string
  content: string
  authorId: string
  createdAt: Date
}

const CreateInput = z.object({
  blogId: z.string().min(1, 'must not be empty'),
  content: z.string().trim().min(1, 'must not be empty').max(10_000, 'at most 10,000 characters'),
})
const ListInput = z.object({ blogId: z.string() })

/**
 * The comments service: comments and its copy of their authors.
 * Consumes User.registered and User.nameUpdated (→ Comment.authorUpdated).
 */
async function startComments(config: ServiceConfig, logger: Logger): Promise<ServiceRuntime> {
  const runtime = await createRuntime('comments', config, logger)
  const comments = runtime.db.collection<CommentDocument>('comments')
  const authors = authorCopies(runtime, async (user, ctx) => {
    await ctx.publish(CommentAuthorUpdated, {
      authorId: user.userId,
      nameVersion: user.nameVersion,
      comments: await comments.countDocuments({ authorId: user.userId }),
    })
  })
  const toComment = async (doc: CommentDocument) => ({
    id: doc._id,
    blogId: doc.blogId,
    content: doc.content,
    author: await authors.get(doc.authorId),
  })

  const create = async (input: unknown, actor: Actor, call: CallInfo) => {
    const { userId } = requireActor(actor)
    const data = parseInput(CreateInput, input)
    // A synchronous read from another service: request-reply, wherever blogs runs.
    const blog = await runtime.rpc.call<{ id: string } | null>('blogs', 'get', {
      id: data.blogId,
    })
    if (!blog) throw new ServiceError('NOT_FOUND', `no blog ${data.blogId}`, 'blogId')
    const comment: CommentDocument = {
      _id: newId(),
      ...data,
      authorId: userId,
      createdAt: new Date(),
    }
    const op = await runtime.core.startOperation({
      id: call.operationId,
      name: 'commentCreate',
      input: { blogId: data.blogId },
      actor: userId,
    })
    await comments.insertOne(comment)
    await op.publish(CommentCreated, {
      commentId: comment._id,
      blogId: data.blogId,
      authorId: userId,
    })
    await op.complete()
    return { operationId: op.id, comment: await toComment(comment) }
  }

  await runtime.start({
    create,
    list: async (input) =>
      Promise.all(
        (
          await comments
            .find({ blogId: parseInput(ListInput, input).blogId })
            .sort({ createdAt: 1 })
            .limit(500)
            .toArray()
        ).map(toComment),
      ),
  })
  return runtime
}

export const comments = defineServiceModule({
  name: 'comments',
  start: startComments,
  gateway: commentsGateway,
})
