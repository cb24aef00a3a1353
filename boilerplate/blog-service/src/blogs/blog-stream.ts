// A blog as an event-sourced entity: its stream `blog:<id>`, its state folded from the stream's
// events, and the decisions the blogs service makes on that state.
import type { NewStreamEvent, Service, StreamEventOf } from '@event-driven/core'
import { ServiceError } from '@event-driven/service-kit'
import type { AuthorName } from '../shared/author-copies.ts'
import {
  BlogAuthorNameChanged,
  BlogCommentCounted,
  BlogCreated,
  BlogUpdated,
} from '../shared/events.ts'

export const blogEvents = [
  BlogCreated,
  BlogUpdated,
  BlogCommentCounted,
  BlogAuthorNameChanged,
] as const
export type BlogEvent = StreamEventOf<typeof blogEvents>
export type NewBlogEvent = NewStreamEvent<typeof blogEvents>

/** The `blog` stream type of a service; define it in every blogs instance, before reads. */
export function defineBlogStreams(service: Service) {
  return service.streams.define({ type: 'blog', events: blogEvents })
}
export type BlogStreams = ReturnType<typeof defineBlogStreams>

/** A blog as its stream says it is; null before Blog.created. */
export interface BlogState {
  id: string
  title: string
  content: string
  authorId: string
  commentCount: number
  createdAt: Date
  /** The highest version of the author's name the blog was told (0: the registered name). */
  authorNameVersion: number
}

/** The blog after one more event of its stream. */
function evolveBlog(blog: BlogState | null, event: BlogEvent): BlogState | null {
  if (event.subject === 'Blog.created') {
    const { data } = event
    return {
      id: data.blogId,
      title: data.title,
      content: data.content,
      authorId: data.authorId,
      commentCount: 0,
      createdAt: data.createdAt ? new Date(data.createdAt) : event.createdAt,
      authorNameVersion: data.authorNameVersion,
    }
  }
  if (!blog) return null // never: every stream starts with Blog.created
  switch (event.subject) {
    case 'Blog.updated': {
      const { title, content } = event.data
      return {
        ...blog,
        ...(title === undefined ? {} : { title }),
        ...(content === undefined ? {} : { content }),
      }
    }
    case 'Blog.commentCounted':
      return { ...blog, commentCount: event.data.commentCount }
    case 'Blog.authorNameChanged':
      // Names of two renames may land in either order: the higher version stays.
      return {
        ...blog,
        authorNameVersion: Math.max(blog.authorNameVersion, event.data.nameVersion),
      }
  }
}

/**
 * The blog's state from its events: `initialState` and `evolve` of every fold and command, from
 * a snapshot taken every 100 events (a blog gets one event per comment). Rename the snapshot when
 * `evolveBlog` or `BlogState` changes: older snapshots are then ignored.
 */
export const blogFold = {
  initialState: (): BlogState | null => null,
  evolve: evolveBlog,
  snapshot: { name: 'blog-v1', every: 100 },
}

export interface NewBlog {
  id: string
  authorId: string
  title: string
  content: string
  authorNameVersion: number
  /** For a blog written before blogs had streams: when it was. */
  createdAt?: Date
}

/** Creates a blog: its stream must be new (the id is). */
export function decideCreate(blog: BlogState | null, input: NewBlog): NewBlogEvent[] {
  if (blog) throw new Error(`blog ${input.id} exists already`)
  return [
    {
      event: BlogCreated,
      data: {
        blogId: input.id,
        authorId: input.authorId,
        title: input.title,
        content: input.content,
        authorNameVersion: input.authorNameVersion,
        ...(input.createdAt ? { createdAt: input.createdAt.toISOString() } : {}),
      },
    },
  ]
}

export interface BlogChanges {
  id: string
  /** Who asks: only the author may. */
  userId: string
  title?: string
  content?: string
}

/** Refuses an update of a blog that does not exist or is someone else's (ServiceError). */
export function checkUpdate(blog: BlogState | null, { id, userId }: BlogChanges): BlogState {
  if (!blog) throw new ServiceError('NOT_FOUND', `no blog ${id}`, 'id')
  if (blog.authorId !== userId)
    throw new ServiceError('FORBIDDEN', 'only the author can update a blog')
  return blog
}

/** Updates a blog: the fields that differ from the blog's, none when nothing changes. */
export function decideUpdate(blog: BlogState | null, changes: BlogChanges): NewBlogEvent[] {
  const current = checkUpdate(blog, changes)
  const { title, content } = changes
  const changed = {
    ...(title !== undefined && title !== current.title ? { title } : {}),
    ...(content !== undefined && content !== current.content ? { content } : {}),
  }
  if (Object.keys(changed).length === 0) return []
  return [{ event: BlogUpdated, data: { blogId: current.id, ...changed } }]
}

/** Counts a comment of the blog. */
export function decideCountComment(
  blog: BlogState | null,
  { blogId, commentId }: { blogId: string; commentId: string },
): NewBlogEvent[] {
  // The comments service checked the blog (a read of its stream) before recording the comment.
  if (!blog)
    throw new Error(
      `blog ${blogId} has no stream: a blog written before blogs had streams is migrated when a blogs instance starts; redrive this event after that`,
    )
  return [
    {
      event: BlogCommentCounted,
      data: { blogId, commentId, commentCount: blog.commentCount + 1 },
    },
  ]
}

/** The blog's author has a new name. */
export function authorNameChanged(
  blogId: string,
  name: Pick<AuthorName, 'userId' | 'firstName' | 'lastName' | 'nameVersion'>,
): NewBlogEvent {
  const { userId, firstName, lastName, nameVersion } = name
  return {
    event: BlogAuthorNameChanged,
    data: { blogId, authorId: userId, firstName, lastName, nameVersion },
  }
}
