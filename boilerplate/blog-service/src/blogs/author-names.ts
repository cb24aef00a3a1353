import { isDuplicateKey, type EventData, type StreamWriter } from '@event-driven/core'
import type { ServiceRuntime } from '@event-driven/service-kit'
import type { authorCopies } from '../shared/author-copies.ts'
import type { UserNameUpdated } from '../shared/events.ts'
import { authorNameChanged, blogFold, type BlogState, type BlogStreams } from './blog-stream.ts'
import type { BlogReadModel } from './read-model.ts'

type Name = EventData<typeof UserNameUpdated>

/** The blogs one rename appends to, fixed by its first run: `_id` `<userId>:<nameVersion>`. */
interface RenamePlan {
  _id: string
  blogIds: string[]
  plannedAt: Date
}

/** Conflicts with other writers of a blog (comments, other renames) a command rides out. */
const maxAttempts = 20

/**
 * Blog.authorNameChanged in every blog of an author whose name changed, from two sides:
 *
 * - `renamed` (the User.nameUpdated handler, after the copy has the name) appends it to each of
 *   the author's blogs in the read model, unless a newer name is in the copy already (the
 *   newer rename's run appends that one);
 * - `catchUp` (the Blog.created projection, after the blog is in the read model) appends the
 *   copy's newest name when it is newer than the blog's: a blog still on its way to the read
 *   model when a rename looked for it. Each side writes, then reads what the other writes, so at
 *   least one of them sees the other.
 */
export function blogAuthorNames(
  runtime: ServiceRuntime,
  streams: BlogStreams,
  readModel: BlogReadModel,
  authors: ReturnType<typeof authorCopies>,
) {
  const plans = runtime.db.collection<RenamePlan>('authorRenames')

  /**
   * The blogs to tell, the same on every run of one rename: a handler's appends take ids derived
   * from their order in its run, so a redelivered run must append to the same blogs in the same
   * order to find its earlier appends (and append nothing twice). The read model grows between
   * runs, so the first run's list is kept.
   */
  async function planOf(name: Name): Promise<string[]> {
    const _id = `${name.userId}:${name.nameVersion}`
    const planned = await plans.findOne({ _id })
    if (planned) return planned.blogIds
    // A newer name is in the copy already: its rename tells the blogs (in a burst of renames,
    // only the ones still newest when handled append).
    if (((await authors.latestName(name.userId))?.nameVersion ?? 0) > name.nameVersion) return []
    const blogIds = (
      await readModel.docs
        // Projected blogs that may not have this name yet (a document written before blogs
        // had streams has no authorNameVersion until its stream is projected).
        .find(
          { authorId: name.userId, authorNameVersion: { $lt: name.nameVersion } },
          { projection: { _id: 1 } },
        )
        .sort({ _id: 1 })
        .toArray()
    ).map((doc) => doc._id)
    if (blogIds.length === 0) return [] // nothing appended: a later run may plan afresh
    try {
      await plans.insertOne({ _id, blogIds, plannedAt: new Date() })
      return blogIds
    } catch (error) {
      // Another run of this rename (another instance) planned first: its plan stands.
      if (!isDuplicateKey(error)) throw error
      return (await plans.findOne({ _id }))!.blogIds
    }
  }

  return {
    async renamed(name: Name, ctx: StreamWriter) {
      for (const blogId of await planOf(name))
        await ctx.handleCommand(
          streams.name(blogId),
          {
            ...blogFold,
            // Appended whatever name the blog has (the decision must not change between runs);
            // an older name landing after a newer one leaves the newer (see blogFold).
            decide: (blog) => {
              if (!blog) throw new Error(`blog ${blogId} is in the read model but has no stream`)
              return [authorNameChanged(blogId, name)]
            },
          },
          { maxAttempts },
        )
    },

    async catchUp(blog: BlogState, ctx: StreamWriter) {
      const latest = await authors.latestName(blog.authorId)
      if (!latest || latest.nameVersion <= blog.authorNameVersion) return
      await ctx.handleCommand(
        streams.name(blog.id),
        {
          ...blogFold,
          decide: (now) =>
            now && now.authorNameVersion < latest.nameVersion
              ? [authorNameChanged(now.id, latest)]
              : [],
        },
        { maxAttempts },
      )
    },
  }
}
