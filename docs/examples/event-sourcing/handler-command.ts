import { defineEvent, type Service } from '@event-driven/core'
import { z } from 'zod'

declare const service: Service
const CommentCreated = defineEvent({
  subject: 'Comment.created',
  version: 1,
  schema: z.object({ commentId: z.string(), blogId: z.string() }),
})
const BlogCommentCounted = defineEvent({
  subject: 'Blog.commentCounted',
  version: 1,
  schema: z.object({ blogId: z.string(), comments: z.number().int() }),
})
const blogs = service.streams.define({ type: 'blog', events: [BlogCommentCounted] })

// #region
service.on(CommentCreated, { handler: 'countComment' }, async (event, ctx) => {
  // The appended event's id is derived from this event and this consumer group: a redelivery
  // finds it in the stream and appends nothing again.
  await ctx.handleCommand(blogs.name(event.data.blogId), {
    initialState: () => 0,
    evolve: (comments, counted) => counted.data.comments,
    decide: (comments) => [
      { event: BlogCommentCounted, data: { blogId: event.data.blogId, comments: comments + 1 } },
    ],
    // Long streams: fold from the latest snapshot of this fold, take one every 100 events.
    snapshot: { name: 'comment-count-v1', every: 100 },
  })
})
// #endregion
