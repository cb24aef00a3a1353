import { ConcurrencyError, newId, StreamNameError, type Operation } from '@event-driven/core'
import {
  parseInput,
  requireActor,
  type Actor,
  type CallInfo,
  type RpcMethod,
  type ServiceRuntime,
} from '@event-driven/service-kit'
import { z } from 'zod'
import type { authorCopies } from '../shared/author-copies.ts'
import {
  blogFold,
  checkUpdate,
  decideCreate,
  decideUpdate,
  type BlogState,
  type BlogStreams,
} from './blog-stream.ts'
import type { BlogReadModel } from './read-model.ts'

const title = z.string().trim().min(1, 'must not be empty').max(200, 'at most 200 characters')
const content = z.string().max(100_000, 'at most 100,000 characters')
const CreateInput = z.object({ title, content })
const UpdateInput = z.object({
  id: z.string(),
  title: title.optional(),
  content: content.optional(),
})
const GetInput = z.object({ id: z.string() })

/** Conflicts with other writers of a blog a command rides out (re-reading and deciding again). */
export const maxAttempts = 20

/**
 * The blogs service's request-reply methods. Commands decide on the blog's stream and answer
 * with the state they left (read your writes); `get` folds the stream, so it reads what was just
 * written (the comments service checks a blog with it); `list` reads the read model, a delivery
 * behind its streams.
 */
export function blogMethods(
  runtime: ServiceRuntime,
  streams: BlogStreams,
  readModel: BlogReadModel,
  authors: ReturnType<typeof authorCopies>,
): Record<'create' | 'update' | 'get' | 'list', RpcMethod> {
  /** The stream of a blog id; none for an id no blog can have. */
  const streamOf = (id: string) => {
    try {
      return streams.name(id)
    } catch (error) {
      if (error instanceof StreamNameError) return undefined
      throw error
    }
  }
  const fold = async (id: string) => {
    const stream = streamOf(id)
    return stream ? runtime.core.streams.aggregateStream(stream, blogFold) : null
  }
  const read = async (id: string): Promise<BlogState | null> => (await fold(id))?.state ?? null
  const toBlog = async (blog: Omit<BlogState, 'createdAt' | 'authorNameVersion'>) => ({
    id: blog.id,
    title: blog.title,
    content: blog.content,
    commentCount: blog.commentCount,
    author: await authors.get(blog.authorId),
  })

  /** Runs a command of an operation to its end: failed with the reason when it throws. */
  const run = async <T>(op: Operation, command: () => Promise<T>): Promise<T> => {
    let result: T
    try {
      result = await command()
    } catch (error) {
      await op.fail(error as Error)
      throw error
    }
    await op.complete()
    return result
  }

  const create = async (input: unknown, actor: Actor, call: CallInfo) => {
    const { userId } = requireActor(actor)
    const data = parseInput(CreateInput, input)
    // The name the blog is created with: a rename after it reaches the blog (author-names.ts).
    const authorNameVersion = (await authors.latestName(userId))?.nameVersion ?? 0
    const op = await runtime.core.startOperation({
      id: call.operationId,
      name: 'blogCreate',
      input: { title: data.title },
      actor: userId,
    })
    const id = newId()
    // A new id's stream is empty: no read, and `no_stream` refuses the one-in-a-billion clash.
    const { events } = await run(op, () =>
      op.appendToStream(
        streams.name(id),
        decideCreate(null, { id, authorId: userId, ...data, authorNameVersion }),
        { expectedStreamPosition: 'no_stream' },
      ),
    )
    // Read your writes: the state the append left, not the read model (a delivery behind).
    const state = events.reduce(blogFold.evolve, blogFold.initialState())
    return { operationId: op.id, blog: await toBlog(state!) }
  }

  const update = async (input: unknown, actor: Actor, call: CallInfo) => {
    const { userId } = requireActor(actor)
    const { id, ...changes } = parseInput(UpdateInput, input)
    const command = { id, userId, ...changes }
    // Refused up front, recording nothing: a missing blog, someone else's.
    const read = await fold(id)
    const blog = checkUpdate(read?.state ?? null, command)
    const position = read!.position
    const op = await runtime.core.startOperation({
      id: call.operationId,
      name: 'blogUpdate',
      input: { id, ...changes },
      actor: userId,
    })
    const stream = streams.name(id)
    const { state } = await run(op, async () => {
      // Decided on the stream as read above; when another update (or a comment) landed first,
      // read and decided again, so no change is lost and each lands at its own position.
      const events = decideUpdate(blog, command)
      if (events.length === 0) return { state: blog }
      try {
        const appended = await op.appendToStream(stream, events, {
          expectedStreamPosition: position,
        })
        return { state: appended.events.reduce(blogFold.evolve, blog) }
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error
        return op.handleCommand(
          stream,
          { ...blogFold, decide: (blog) => decideUpdate(blog, command) },
          { maxAttempts },
        )
      }
    })
    return { operationId: op.id, blog: await toBlog(state!) }
  }

  return {
    create,
    update,
    get: async (input) => {
      const blog = await read(parseInput(GetInput, input).id)
      return blog ? toBlog(blog) : null
    },
    list: async () =>
      Promise.all(
        (await readModel.list(100)).map(({ _id, ...doc }) => toBlog({ id: _id, ...doc })),
      ),
  }
}
