import { isDuplicateKey, type EventDefinition, type HandlerContext } from '@event-driven/core'
import type { ServiceRuntime } from '@event-driven/service-kit'
import {
  BlogAuthorNameChanged,
  BlogCommentCounted,
  BlogCreated,
  BlogUpdated,
} from '../shared/events.ts'
import { blogFold, type BlogState, type BlogStreams } from './blog-stream.ts'

/**
 * A blog in the read model (collection `blogs`): its state at `position` of its stream. A
 * document written before blogs had streams has neither `position` nor `authorNameVersion` until
 * the migration gave it a stream and the projection rewrote it.
 */
export interface BlogDocument {
  _id: string
  title: string
  content: string
  authorId: string
  commentCount: number
  createdAt: Date
  authorNameVersion?: number
  position?: number
}

/** Rounds of write-and-check before a projection gives up (and its handler is retried). */
const maxRounds = 10

/** What the Blog.created projection does once the blog is in the read model. */
export type AfterCreated = (blog: BlogState, ctx: HandlerContext) => Promise<void>

/**
 * The read model of blogs: the list and the digest's count read it. Consumer groups of the four
 * Blog events (`blogs.project<Event>`) keep it; each folds the blog's stream and writes the state
 * with its position, only over an older one, so a redelivered or late event never moves a blog
 * back. It lags its streams by a delivery: reads that must see a write (`get`, the comments
 * service's check of a blog) fold the stream instead.
 */
export function blogReadModel(runtime: ServiceRuntime, streams: BlogStreams) {
  const docs = runtime.db.collection<BlogDocument>('blogs')

  /** Writes the state at `position`, unless the document is at that position or later. */
  async function write({ id, ...blog }: BlogState, position: number) {
    try {
      await docs.updateOne(
        // A document without a position (written before streams) is older than any.
        { _id: id, position: { $not: { $gte: position } } },
        { $set: { ...blog, position } },
        { upsert: true },
      )
    } catch (error) {
      // The upsert met the document: it is at this position or later.
      if (!isDuplicateKey(error)) throw error
    }
  }

  /**
   * Brings a blog's document to its stream's head, and returns the state written. After each
   * write it reads the stream past the position written, and writes again when there is more:
   * on FerretDB two concurrent updates of one document are not atomic, so an older state may
   * land over a newer one, and its writer then finds the stream past it and writes again.
   */
  async function project(blogId: string): Promise<BlogState | null> {
    const name = streams.name(blogId)
    let { state, position } = await runtime.core.streams.aggregateStream(name, blogFold)
    for (let round = 1; state; round++) {
      await write(state, position)
      const after = await runtime.core.streams.readStream(name, { from: position + 1 })
      if (after.events.length === 0) return state
      if (round === maxRounds)
        throw new Error(
          `blog ${blogId}: its stream kept growing past its read model (${maxRounds} writes, at ${position} of ${after.position}); the delivery is retried`,
        )
      state = after.events.reduce(blogFold.evolve, state)
      position = after.events.at(-1)!.position
    }
    return null
  }

  function projectEvents(afterCreated: AfterCreated) {
    const on = <Data extends { blogId: string }>(
      definition: EventDefinition<string, Data>,
      handler: string,
      after?: AfterCreated,
    ) =>
      runtime.core.on(definition, { handler }, async (event, ctx) => {
        const blog = await project(event.data.blogId)
        if (!blog)
          // An instance of the code before streams wrote it: the next start migrates it.
          ctx.logger.warn(
            { blogId: event.data.blogId },
            'this blog has no stream yet: a blogs instance gives it one when it starts',
          )
        else if (after) await after(blog, ctx)
      })
    on(BlogCreated, 'projectBlogCreated', afterCreated)
    on(BlogUpdated, 'projectBlogUpdated')
    on(BlogCommentCounted, 'projectBlogCommentCounted')
    on(BlogAuthorNameChanged, 'projectBlogAuthorNameChanged')
  }

  return {
    docs,
    /** Registers the consumer groups that keep the read model: call before `start()`. */
    projectEvents,
    /** The newest blogs first. */
    list: (limit: number) => docs.find().sort({ createdAt: -1 }).limit(limit).toArray(),
    /** Blogs created in [from, to). */
    countCreated: (from: Date, to: Date) =>
      docs.countDocuments({ createdAt: { $gte: from, $lt: to } }),
    async createIndexes() {
      // The list and the digest go by creation time; a rename finds its author's blogs.
      await docs.createIndex({ createdAt: 1 })
      await docs.createIndex({ authorId: 1 })
    },
  }
}

export type BlogReadModel = ReturnType<typeof blogReadModel>
