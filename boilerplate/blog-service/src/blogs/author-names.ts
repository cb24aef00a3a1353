import type { EventData, StreamWriter } from '@event-driven/core'
import type { authorCopies } from '../shared/author-copies.ts'
import type { UserNameUpdated } from '../shared/events.ts'
import { authorNameChanged, blogFold, type BlogState, type BlogStreams } from './blog-stream.ts'
import type { BlogReadModel } from './read-model.ts'

type Name = EventData<typeof UserNameUpdated>

/** Conflicts with other writers of a blog (comments, other renames) a command rides out. */
const maxAttempts = 20

/**
 * Blog.authorNameChanged in every blog of an author whose name changed, from two sides:
 *
 * - `renamed` (the User.nameUpdated handler, after the copy has the name) appends it to each of
 *   the author's blogs in the read model that has an older name, unless a newer name is in the
 *   copy already (the newer rename's run appends that one);
 * - `catchUp` (the Blog.created projection, after the blog is in the read model) appends the
 *   copy's newest name when it is newer than the blog's: a blog still on its way to the read
 *   model when a rename looked for it. Each side writes, then reads what the other writes, so at
 *   least one of them sees the other.
 *
 * A redelivered run appends nothing twice: a handler's appended events take ids per stream, and
 * a blog it told already has the name (it decides nothing).
 */
export function blogAuthorNames(
  streams: BlogStreams,
  readModel: BlogReadModel,
  authors: ReturnType<typeof authorCopies>,
) {
  return {
    async renamed(name: Name, ctx: StreamWriter) {
      // A newer name is in the copy already: its rename tells the blogs (in a burst of renames,
      // only the ones still newest when handled append).
      if (((await authors.latestName(name.userId))?.nameVersion ?? 0) > name.nameVersion) return
      const blogs = await readModel.docs
        // Projected blogs that may not have this name yet (a document written before blogs
        // had streams has no authorNameVersion until its stream is projected).
        .find(
          { authorId: name.userId, authorNameVersion: { $lt: name.nameVersion } },
          { projection: { _id: 1 } },
        )
        .toArray()
      for (const { _id: blogId } of blogs)
        await ctx.handleCommand(
          streams.name(blogId),
          {
            ...blogFold,
            decide: (blog) => {
              if (!blog) throw new Error(`blog ${blogId} is in the read model but has no stream`)
              return blog.authorNameVersion < name.nameVersion
                ? [authorNameChanged(blogId, name)]
                : []
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
