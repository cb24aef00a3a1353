import { ConcurrencyError, type Operation } from '@event-driven/core'
import type { ServiceRuntime } from '@event-driven/service-kit'
import type { authorCopies } from '../shared/author-copies.ts'
import { BlogCommentCounted } from '../shared/events.ts'
import { decideCreate, type BlogStreams, type NewBlogEvent } from './blog-stream.ts'
import type { BlogDocument, BlogReadModel } from './read-model.ts'

/** Old documents read, and their streams appended concurrently, per round. */
export const migrateBatchSize = 100

export interface MigrateResult {
  /** The operation that appended the streams; none when there was nothing to migrate. */
  operationId?: string
  /** Blogs whose stream this run appended. */
  migrated: number
  /** Blogs whose stream was there already (an earlier run, or another instance racing). */
  found: number
}

/**
 * Gives each blog written before blogs had streams (a document in `blogs` without a position)
 * its stream: Blog.created with the document's fields and time, and Blog.commentCounted with its
 * count when it has comments, appended together with `no_stream`. One operation, `blogMigrate`,
 * holds a run's appends; it is started only when a stream is missing. Idempotent: a stream that
 * exists is left alone, and of two instances racing, one append lands per blog (the other gets
 * ConcurrencyError). Runs at start, before the service serves or consumes; the projection then
 * rewrites each document from its stream (with its position), so it is not looked at again.
 */
export async function migrateBlogs(
  runtime: ServiceRuntime,
  streams: BlogStreams,
  readModel: BlogReadModel,
  authors: ReturnType<typeof authorCopies>,
): Promise<MigrateResult> {
  const result: MigrateResult = { migrated: 0, found: 0 }
  let op: Operation | undefined
  let after = ''
  try {
    for (;;) {
      const batch = await readModel.docs
        .find({ position: { $exists: false }, _id: { $gt: after } })
        .sort({ _id: 1 })
        .limit(migrateBatchSize)
        .toArray()
      if (batch.length === 0) break
      after = batch.at(-1)!._id
      const exists = await Promise.all(
        batch.map(
          async (doc) => (await runtime.core.streams.readStream(streams.name(doc._id))).exists,
        ),
      )
      const missing = batch.filter((_, i) => !exists[i])
      result.found += batch.length - missing.length
      if (missing.length === 0) continue
      op ??= await runtime.core.startOperation({
        name: 'blogMigrate',
        input: { batchSize: migrateBatchSize },
        actor: 'migration:blogs',
        // A large collection takes longer than a command: not abandoned meanwhile.
        deadlineMs: 60 * 60_000,
      })
      const nameVersions = await latestNameVersions(authors, missing)
      const appended = await Promise.all(
        missing.map((doc) => appendStream(op!, streams, doc, nameVersions.get(doc.authorId) ?? 0)),
      )
      const landed = appended.filter(Boolean).length
      result.migrated += landed
      result.found += missing.length - landed
    }
    if (op) await op.complete()
  } catch (error) {
    await op?.fail(error as Error)
    throw error
  }
  return { ...result, ...(op ? { operationId: op.id } : {}) }
}

/** Appends one old blog's stream: false when another run appended it first. */
async function appendStream(
  op: Operation,
  streams: BlogStreams,
  doc: BlogDocument,
  authorNameVersion: number,
): Promise<boolean> {
  const events: NewBlogEvent[] = decideCreate(null, {
    id: doc._id,
    authorId: doc.authorId,
    title: doc.title,
    content: doc.content,
    authorNameVersion,
    createdAt: doc.createdAt,
  })
  if (doc.commentCount > 0)
    events.push({
      event: BlogCommentCounted,
      data: { blogId: doc._id, commentCount: doc.commentCount },
    })
  try {
    await op.appendToStream(streams.name(doc._id), events, { expectedStreamPosition: 'no_stream' })
    return true
  } catch (error) {
    if (error instanceof ConcurrencyError) return false
    throw error
  }
}

/** The newest name version of each author of these blogs, in the blogs service's copy. */
async function latestNameVersions(
  authors: ReturnType<typeof authorCopies>,
  docs: BlogDocument[],
): Promise<Map<string, number>> {
  const authorIds = [...new Set(docs.map((doc) => doc.authorId))]
  const latest = await Promise.all(authorIds.map((id) => authors.latestName(id)))
  return new Map(authorIds.map((id, i) => [id, latest[i]?.nameVersion ?? 0]))
}
