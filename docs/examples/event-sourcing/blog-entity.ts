import { defineEvent, type Operation, type Service, type StreamEventOf } from '@event-driven/core'
import { z } from 'zod'

// What the block in the docs assumes: a service, and an operation started for the command.
declare const service: Service
declare const op: Operation

// #region
const BlogCreated = defineEvent({
  subject: 'Blog.created',
  version: 1,
  schema: z.object({ blogId: z.string(), authorId: z.string(), title: z.string() }),
})
const BlogRenamed = defineEvent({
  subject: 'Blog.renamed',
  version: 1,
  schema: z.object({ blogId: z.string(), title: z.string() }),
})

// The kind of entity and every event its streams hold; blogs.name(id) is 'blog:<id>'.
const blogs = service.streams.define({ type: 'blog', events: [BlogCreated, BlogRenamed] })

type Blog = { authorId: string; title: string } | null
const evolve = (blog: Blog, event: StreamEventOf<typeof blogs.events>): Blog => {
  switch (event.subject) {
    case 'Blog.created':
      return { authorId: event.data.authorId, title: event.data.title }
    case 'Blog.renamed':
      return blog && { ...blog, title: event.data.title }
  }
}

// Read, decide on the state, append at the position read; on a conflict, read and decide again.
const { state, position } = await op.handleCommand(blogs.name('b1'), {
  initialState: () => null,
  evolve,
  decide: (blog) => {
    if (!blog) throw new Error('no blog b1')
    if (blog.title === 'Event sourcing') return [] // nothing to do
    return [{ event: BlogRenamed, data: { blogId: 'b1', title: 'Event sourcing' } }]
  },
})
// #endregion
void state
void position
