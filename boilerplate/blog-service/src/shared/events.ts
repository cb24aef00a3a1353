import { defineEvent } from '@event-driven/core'
import { z } from 'zod'

// The events of the blog service's chains. Each service publishes its own entity's events.

export const UserRegistered = defineEvent({
  subject: 'User.registered',
  version: 1,
  schema: z.object({
    userId: z.string(),
    username: z.string(),
    firstName: z.string(),
    lastName: z.string(),
  }),
})

/** `nameVersion` grows with every update, so copies apply only newer names, in any order. */
export const UserNameUpdated = defineEvent({
  subject: 'User.nameUpdated',
  version: 1,
  schema: z.object({
    userId: z.string(),
    firstName: z.string(),
    lastName: z.string(),
    nameVersion: z.number().int(),
  }),
})

export const BlogCreated = defineEvent({
  subject: 'Blog.created',
  version: 1,
  schema: z.object({ blogId: z.string(), authorId: z.string(), title: z.string() }),
})

export const BlogAuthorUpdated = defineEvent({
  subject: 'Blog.authorUpdated',
  version: 1,
  schema: z.object({
    authorId: z.string(),
    nameVersion: z.number().int(),
    blogs: z.number().int(),
  }),
})

export const CommentCreated = defineEvent({
  subject: 'Comment.created',
  version: 1,
  schema: z.object({ commentId: z.string(), blogId: z.string(), authorId: z.string() }),
})

export const CommentAuthorUpdated = defineEvent({
  subject: 'Comment.authorUpdated',
  version: 1,
  schema: z.object({
    authorId: z.string(),
    nameVersion: z.number().int(),
    comments: z.number().int(),
  }),
})

/** A moderator's verdict on a comment, delivered by the moderation webhook. */
export const CommentModerated = defineEvent({
  subject: 'Comment.moderated',
  version: 1,
  schema: z.object({
    commentId: z.string(),
    blogId: z.string(),
    verdict: z.enum(['approved', 'rejected']),
  }),
})

/** What one tick of the blogs digest timer counted: blogs created in [from, to). */
export const BlogDigestCompiled = defineEvent({
  subject: 'Blog.digestCompiled',
  version: 1,
  schema: z.object({
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    blogsCreated: z.number().int().positive(),
  }),
})
