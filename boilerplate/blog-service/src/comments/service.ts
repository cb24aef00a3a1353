import { newId } from '@event-driven/core'
import {
  ServiceError,
  createRuntime,
  defineServiceModule,
  parseInput,
  requireActor,
  requireWebhook,
  type Actor,
  type CallInfo,
  type ServiceConfig,
  type ServiceRuntime,
} from '@event-driven/service-kit'
import type { Logger } from 'pino'
import { commentsGateway } from './gateway.ts'
import { z } from 'zod'
import { authorCopies } from '../shared/author-copies.ts'
import { CommentAuthorUpdated, CommentCreated, CommentModerated } from '../shared/events.ts'

type Verdict = 'approved' | 'rejected'

interface CommentDocument {
  _id: string
  blogId: string
  content: string
  authorId: string
  createdAt: Date
  /** The latest verdict of the moderation webhook, at its position in the comment's stream. */
  moderation?: { verdict: Verdict; position: number }
}

const CreateInput = z.object({
  blogId: z.string().min(1, 'must not be empty'),
  content: z.string().trim().min(1, 'must not be empty').max(10_000, 'at most 10,000 characters'),
})
const ListInput = z.object({ blogId: z.string() })
/** The moderation webhook's body. */
const ModerateInput = z.object({
  commentId: z.string().min(1, 'must not be empty').max(100, 'at most 100 characters'),
  verdict: z.enum(['approved', 'rejected']),
})

/**
 * The comments service: comments, their moderation and its copy of their authors.
 * Consumes User.registered and User.nameUpdated (→ Comment.authorUpdated); its `moderation`
 * webhook (`POST /webhooks/moderation`) publishes Comment.moderated.
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
    moderation: doc.moderation?.verdict ?? null,
    author: await authors.get(doc.authorId),
  })

  // A verdict and its event together (`op.change`): neither is kept without the other.
  const moderationState = runtime.core.entityState<{ verdict: Verdict }>({
    type: 'commentModeration',
    // Writes only a newer position; missing `moderation` counts as none.
    async apply({ key, position, state }) {
      await comments.updateOne(
        { _id: key, 'moderation.position': { $not: { $gte: position } } },
        { $set: { moderation: { verdict: state.verdict, position } } },
      )
    },
  })

  /** A delivery of the moderation webhook: the gateway checked its signature and its id. */
  const moderate = async (input: unknown, _actor: Actor, call: CallInfo) => {
    const { actor, deliveryId } = requireWebhook(call, 'moderation')
    const { commentId, verdict } = parseInput(ModerateInput, input)
    const comment = await comments.findOne({ _id: commentId })
    if (!comment) throw new ServiceError('NOT_FOUND', `no comment ${commentId}`, 'commentId')
    const op = await runtime.core.startOperation({
      id: call.operationId,
      name: 'commentModerate',
      input: { commentId, verdict, deliveryId },
      actor,
    })
    // The latest verdict wins, whatever the order two of them are handled in.
    await op.change(moderationState, {
      key: commentId,
      expectedPosition: comment.moderation?.position ?? 0,
      onConflict: 'next',
      state: () => ({ verdict }),
      event: CommentModerated,
      data: () => ({ commentId, blogId: comment.blogId, verdict }),
    })
    await op.complete()
    return { commentId, verdict }
  }

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
    moderate,
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
  // Signed with WEBHOOK_SECRET_MODERATION (a development secret in development).
  webhooks: { moderation: { method: 'moderate' } },
})
