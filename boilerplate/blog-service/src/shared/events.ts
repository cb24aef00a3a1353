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

/**
 * The first event of a blog's stream (`blog:<blogId>`). Version 2 holds the whole blog, so its
 * stream is the blog: `content`, the version of the author's name the blogs service knew
 * (`authorNameVersion`, see Blog.authorNameChanged), and `createdAt` for a blog written before
 * blogs had streams (set by the migration; otherwise the event's own time is the blog's).
 */
export const BlogCreated = defineEvent({
  subject: 'Blog.created',
  version: 2,
  schema: z.object({
    blogId: z.string(),
    authorId: z.string(),
    title: z.string(),
    content: z.string(),
    authorNameVersion: z.number().int(),
    createdAt: z.iso.datetime().optional(),
  }),
  upcasters: {
    // Version 1 was an announcement beside a document: its content was not in the event.
    1: (v1: { blogId: string; authorId: string; title: string }) => ({
      ...v1,
      content: '',
      authorNameVersion: 0,
    }),
  },
})

/** The author changed a blog's title or content: the fields that changed, and only those. */
export const BlogUpdated = defineEvent({
  subject: 'Blog.updated',
  version: 1,
  schema: z.object({
    blogId: z.string(),
    title: z.string().optional(),
    content: z.string().optional(),
  }),
})

/**
 * A blog's comment count, after counting the comment `commentId` (Comment.created). The
 * migration counts the comments of a blog written before blogs had streams at once, without
 * `commentId`.
 */
export const BlogCommentCounted = defineEvent({
  subject: 'Blog.commentCounted',
  version: 1,
  schema: z.object({
    blogId: z.string(),
    commentId: z.string().optional(),
    commentCount: z.number().int().positive(),
  }),
})

/**
 * The blog's author has a new name (User.nameUpdated reached the blogs service): one per blog
 * of the author. `nameVersion` is the name's version; a blog keeps the highest it was told.
 */
export const BlogAuthorNameChanged = defineEvent({
  subject: 'Blog.authorNameChanged',
  version: 1,
  schema: z.object({
    blogId: z.string(),
    authorId: z.string(),
    firstName: z.string(),
    lastName: z.string(),
    nameVersion: z.number().int(),
  }),
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
