// The blog's decider without servers: given the events of its stream, when a command is decided,
// then these events (or this refusal).
import { readEventData } from '@event-driven/core'
import { describe, expect, it } from 'vitest'
import { BlogCommentCounted, BlogCreated } from '../shared/events.ts'
import {
  authorNameChanged,
  blogFold,
  decideCountComment,
  decideCreate,
  decideUpdate,
  type BlogEvent,
  type NewBlogEvent,
} from './blog-stream.ts'

const at = new Date('2025-01-01T00:00:00.000Z')

/** The blog the stream of these events folds into (as a read gives them back). */
function given(...events: NewBlogEvent[]) {
  return events
    .map(
      ({ event, data }, i) =>
        ({
          id: `e${i + 1}`,
          subject: event.subject,
          version: event.version,
          storedVersion: event.version,
          data,
          position: i + 1,
          operationId: 'op',
          parentId: 'op',
          createdAt: at,
        }) as BlogEvent,
    )
    .reduce(blogFold.evolve, blogFold.initialState())
}

const created = decideCreate(null, {
  id: 'b1',
  authorId: 'ada',
  title: 'Notes',
  content: 'On the engine',
  authorNameVersion: 0,
})
const ada = { userId: 'ada', firstName: 'Ada', lastName: 'King' }

describe('the blog decider', () => {
  it('folds a stream into the blog', () => {
    const updated = decideUpdate(given(...created), { id: 'b1', userId: 'ada', title: 'Revised' })
    const counted = decideCountComment(given(...created), { blogId: 'b1', commentId: 'c1' })
    expect(
      given(
        ...created,
        ...updated,
        ...counted,
        // Two renames landing out of order: the newer name's version stays.
        authorNameChanged('b1', { ...ada, nameVersion: 3 }),
        authorNameChanged('b1', { ...ada, nameVersion: 2 }),
      ),
    ).toEqual({
      id: 'b1',
      title: 'Revised',
      content: 'On the engine',
      authorId: 'ada',
      commentCount: 1,
      createdAt: at, // the event's time; a migrated blog's own, below
      authorNameVersion: 3,
    })
    const migrated = decideCreate(null, {
      id: 'b0',
      authorId: 'ada',
      title: 'Old',
      content: '',
      authorNameVersion: 1,
      createdAt: new Date('2020-05-05T00:00:00.000Z'),
    })
    expect(given(...migrated)?.createdAt).toEqual(new Date('2020-05-05T00:00:00.000Z'))
  })

  it("refuses an update of a missing blog or of someone else's, and appends nothing for no change", () => {
    expect(() => decideUpdate(null, { id: 'b1', userId: 'ada', title: 'x' })).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND', field: 'id' }) as Error,
    )
    expect(() => decideUpdate(given(...created), { id: 'b1', userId: 'bob', title: 'x' })).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN' }) as Error,
    )
    expect(decideUpdate(given(...created), { id: 'b1', userId: 'ada', title: 'Notes' })).toEqual([])
    const changes = { id: 'b1', userId: 'ada', title: 'Notes', content: 'New' }
    expect(decideUpdate(given(...created), changes).map((e) => e.data)).toEqual([
      { blogId: 'b1', content: 'New' },
    ])
  })

  it('counts a comment on the count it read (the migrated count too); creates only new blogs', () => {
    const migratedCount = { event: BlogCommentCounted, data: { blogId: 'b1', commentCount: 7 } }
    expect(
      decideCountComment(given(...created, migratedCount), { blogId: 'b1', commentId: 'c8' }).map(
        (e) => e.data,
      ),
    ).toEqual([{ blogId: 'b1', commentId: 'c8', commentCount: 8 }])
    expect(() => decideCountComment(null, { blogId: 'b1', commentId: 'c1' })).toThrow(/no stream/)
    expect(() =>
      decideCreate(given(...created), {
        id: 'b1',
        authorId: 'ada',
        title: 't',
        content: '',
        authorNameVersion: 0,
      }),
    ).toThrow(/exists already/)
  })

  it('reads a Blog.created of version 1 (published beside a document, before streams)', async () => {
    expect(
      await readEventData(BlogCreated, { blogId: 'b1', authorId: 'ada', title: 'Notes' }, 1),
    ).toEqual({ blogId: 'b1', authorId: 'ada', title: 'Notes', content: '', authorNameVersion: 0 })
  })
})
