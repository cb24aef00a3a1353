// The blogs service's event-sourced blogs on real servers, in this process: blogs written before
// blogs had streams are migrated at start (two instances racing), concurrent updates of one blog
// each land at their own position, and a rename reaches each of the author's blogs once, also
// when it runs again.
import { ConcurrencyError, newId, type StreamName } from '@event-driven/core'
import { eventStore } from '@event-driven/core/admin'
import {
  configFromEnv,
  createLogger,
  type ServiceConfig,
  type ServiceRuntime,
} from '@event-driven/service-kit'
import {
  createTestNamespace,
  eventually,
  getTestServers,
  type TestNamespace,
} from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BlogCommentCounted, BlogCreated, BlogUpdated } from '../shared/events.ts'
import { users } from '../users/service.ts'
import { blogEvents, blogFold } from './blog-stream.ts'
import type { BlogDocument } from './read-model.ts'
import { blogs } from './service.ts'

const servers = await getTestServers()
const mongo = await new MongoClient(servers.mongodbUrl).connect()
let ns: TestNamespace
let config: ServiceConfig
let store: ReturnType<typeof eventStore>
/** Two blogs instances (started together: their migrations race) and a users instance. */
let blogsA: ServiceRuntime
let blogsB: ServiceRuntime
let usersRuntime: ServiceRuntime
const logger = createLogger({ level: 'warn' })

/** Blogs as the code before streams wrote them: a document, no stream. */
const oldBlogs: BlogDocument[] = [
  {
    _id: 'old-1',
    title: 'Written before streams',
    content: 'With two comments',
    authorId: 'old-author',
    commentCount: 2,
    createdAt: new Date('2024-03-01T10:00:00.000Z'),
  },
  {
    _id: 'old-2',
    title: 'Also old',
    content: 'No comments',
    authorId: 'old-author',
    commentCount: 0,
    createdAt: new Date('2024-03-02T10:00:00.000Z'),
  },
]

const startBlogs = async () => (await blogs.start(config, logger)) as ServiceRuntime
const blogStream = (blogId: string) => `blog:${blogId}` as StreamName<typeof blogEvents>
const read = (runtime: ServiceRuntime, blogId: string) =>
  runtime.core.streams.readStream(blogStream(blogId))
const call = <T>(service: string, method: string, input: unknown, userId?: string) =>
  blogsA.rpc.call<T>(service, method, input, userId ? { actor: { userId } } : {})

beforeAll(async () => {
  ns = createTestNamespace(servers, 'blogs')
  config = configFromEnv({
    NATS_URL: servers.natsUrl,
    MONGODB_URL: servers.mongodbUrl,
    DATABASE_PREFIX: `${ns.database}_`,
    EVENTS_STREAM: `${ns.subjectPrefix}_EVENTS`,
    EVENTS_SUBJECT_PREFIX: ns.subjectPrefix,
    RPC_PREFIX: `${ns.subjectPrefix}_rpc`,
    AUTH_SECRET: 'blogs-test-secret',
    PORT: '0',
    RETRY_BASE_DELAY_MS: '50',
    BLOG_DIGEST_EVERY_MS: '0',
  })
  store = eventStore(mongo.db(`${ns.database}_event_driven`))
  const db = mongo.db(`${ns.database}_blogs`)
  await db.collection<BlogDocument>('blogs').insertMany(oldBlogs)
  // The blogs service's copy of their author, renamed twice.
  await db.collection('authors').insertOne({ _id: 'old-author' as never, username: 'elder' })
  await db.collection('authorNames').insertOne({
    _id: 'old-author:3' as never,
    userId: 'old-author',
    firstName: 'Ada',
    lastName: 'Byron',
    nameVersion: 3,
  })
  ;[blogsA, blogsB] = await Promise.all([startBlogs(), startBlogs()])
  usersRuntime = (await users.start(config, logger)) as ServiceRuntime
})

afterAll(async () => {
  await Promise.all([blogsA, blogsB, usersRuntime].map((runtime) => runtime?.stop()))
  await mongo.close()
  await ns?.cleanup()
})

describe('blogs written before blogs had streams', () => {
  it('are given their streams at start, once, under blogMigrate operations, and served', async () => {
    const [withComments, without] = await Promise.all(oldBlogs.map((b) => read(blogsA, b._id)))
    expect(withComments!.events.map((e) => [e.position, e.subject, e.data])).toEqual([
      [
        1,
        'Blog.created',
        {
          blogId: 'old-1',
          authorId: 'old-author',
          title: 'Written before streams',
          content: 'With two comments',
          authorNameVersion: 3,
          createdAt: '2024-03-01T10:00:00.000Z',
        },
      ],
      [2, 'Blog.commentCounted', { blogId: 'old-1', commentCount: 2 }],
    ])
    expect(without!.events.map((e) => [e.position, e.subject])).toEqual([[1, 'Blog.created']])
    // Each stream was appended by one instance's blogMigrate (the other found it there).
    const migrations = await store.operations.find({ name: 'blogMigrate' }).toArray()
    expect(migrations.length).toBeGreaterThanOrEqual(1)
    expect(migrations.every((op) => op.status === 'completed')).toBe(true)
    for (const { events } of [withComments!, without!])
      expect(new Set(events.map((e) => e.operationId)).size).toBe(1)
    expect(migrations.map((op) => op._id)).toEqual(
      expect.arrayContaining([withComments!.events[0]!.operationId]),
    )

    // Served: `get` from the stream, the list from the read model (rewritten from the streams).
    expect(await call('blogs', 'get', { id: 'old-1' })).toEqual({
      id: 'old-1',
      title: 'Written before streams',
      content: 'With two comments',
      commentCount: 2,
      author: { id: 'old-author', username: 'elder', firstName: 'Ada', lastName: 'Byron' },
    })
    await eventually(async () => {
      const docs = await mongo
        .db(`${ns.database}_blogs`)
        .collection<BlogDocument>('blogs')
        .find({ _id: { $in: ['old-1', 'old-2'] } })
        .sort({ _id: 1 })
        .toArray()
      expect(docs.map((d) => [d._id, d.position, d.authorNameVersion])).toEqual([
        ['old-1', 2, 3],
        ['old-2', 1, 3],
      ])
    })
    const list = await call<{ id: string; commentCount: number }[]>('blogs', 'list', {})
    expect(list.filter((b) => b.id.startsWith('old-'))).toMatchObject([
      { id: 'old-2', commentCount: 0 },
      { id: 'old-1', commentCount: 2 },
    ])

    // Another start finds nothing to migrate: no operation, nothing appended; also when the
    // read model has not rewritten a document yet (a restart right after the migration).
    const readModel = mongo.db(`${ns.database}_blogs`).collection<BlogDocument>('blogs')
    await readModel.updateOne({ _id: 'old-1' }, { $unset: { position: '' } })
    const again = await startBlogs()
    await again.stop()
    await readModel.updateOne({ _id: 'old-1' }, { $set: { position: 2 } })
    expect(await store.operations.countDocuments({ name: 'blogMigrate' })).toBe(migrations.length)
    expect((await read(blogsA, 'old-1')).position).toBe(2)
  })
})

describe('updates of one blog', () => {
  it('land one after the other: each decided on the blog as the one before left it', async () => {
    const author = newId()
    const { blog } = await call<{ blog: { id: string } }>(
      'blogs',
      'create',
      { title: 'Draft', content: 'v0' },
      author,
    )
    const updates = [
      { title: 'Title 1' },
      { content: 'Content 1' },
      { title: 'Title 2' },
      { content: 'Content 2' },
      { title: 'Title 3' },
    ]
    const results = await Promise.all(
      updates.map((changes) =>
        call<{ operationId: string; blog: unknown }>(
          'blogs',
          'update',
          { id: blog.id, ...changes },
          author,
        ),
      ),
    )
    const stream = await read(blogsA, blog.id)
    expect(stream.events.map((e) => e.subject)).toEqual([
      'Blog.created',
      ...updates.map(() => 'Blog.updated'),
    ])
    // What each update answered is the blog at its own position: every one decided on the
    // state the ones before it left (re-read and decided again when another landed first).
    for (const event of stream.events.slice(1)) {
      const answered = results.find((r) => r.operationId === event.operationId)!
      const { state } = await blogsA.core.streams.aggregateStream(blogStream(blog.id), {
        initialState: blogFold.initialState,
        evolve: blogFold.evolve,
        read: { to: event.position },
      })
      expect(answered.blog).toMatchObject({ title: state!.title, content: state!.content })
    }
    // The blog is what its last update left.
    const last = results.find((r) => r.operationId === stream.events.at(-1)!.operationId)!
    expect(await call('blogs', 'get', { id: blog.id })).toEqual(last.blog)

    // A writer that decided on an older position is refused, and appends nothing.
    const op = await blogsA.core.startOperation({ name: 'staleWriter' })
    await expect(
      op.appendToStream(
        blogStream(blog.id),
        [{ event: BlogUpdated, data: { blogId: blog.id, title: 'stale' } }],
        { expectedStreamPosition: 1 },
      ),
    ).rejects.toMatchObject({ name: ConcurrencyError.name, actualPosition: 6 })
    // Someone else's update is refused before anything is recorded.
    const before = await store.operations.countDocuments({ name: 'blogUpdate' })
    await expect(
      call('blogs', 'update', { id: blog.id, title: 'Not mine' }, newId()),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' })
    expect(await store.operations.countDocuments({ name: 'blogUpdate' })).toBe(before)
    expect((await read(blogsA, blog.id)).position).toBe(6)
  })
})

describe('a blog with many events', () => {
  it('is folded from a snapshot', async () => {
    const author = newId()
    const { blog } = await call<{ blog: { id: string } }>(
      'blogs',
      'create',
      { title: 'Popular', content: '…' },
      author,
    )
    const op = await blogsA.core.startOperation({ name: 'manyComments' })
    const counted = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        event: BlogCommentCounted,
        data: { blogId: blog.id, commentId: `c${from + i}`, commentCount: from + i },
      }))
    await op.appendToStream(blogStream(blog.id), counted(1, 100))
    await op.appendToStream(blogStream(blog.id), counted(101, 50))
    expect(await call('blogs', 'get', { id: blog.id })).toMatchObject({ commentCount: 150 })
    // Taken by a fold of 100 events or more (the read model's or this read's): the blog there.
    const snapshot = await store.streamSnapshots.findOne({
      stream: `blog:${blog.id}`,
      name: 'blog-v1',
    })
    expect(snapshot?.position).toBeGreaterThanOrEqual(101)
    expect(snapshot?.state).toMatchObject({ id: blog.id, commentCount: snapshot!.position - 1 })
    // The next command folds from it, and its state is the whole stream's.
    const { blog: updated } = await call<{ blog: unknown }>(
      'blogs',
      'update',
      { id: blog.id, title: 'Still popular' },
      author,
    )
    expect(updated).toMatchObject({ title: 'Still popular', commentCount: 150 })
  })
})

describe('a rename of an author', () => {
  it("reaches each of the author's blogs once, also when it is replayed", async () => {
    const { user } = await call<{ user: { id: string } }>('users', 'register', {
      username: 'grace',
      password: 'correct-horse',
      firstName: 'Grace',
      lastName: 'Brewster',
    })
    const create = async (title: string) =>
      (await call<{ blog: { id: string } }>('blogs', 'create', { title, content: '…' }, user.id))
        .blog.id
    const blogIds = [await create('One'), await create('Two')]
    // The blogs service has the author, and both blogs are in its read model.
    const readModel = mongo.db(`${ns.database}_blogs`).collection<BlogDocument>('blogs')
    await eventually(async () =>
      expect(await readModel.countDocuments({ authorId: user.id, position: 1 })).toBe(2),
    )
    const renamed = await call<{ operationId: string }>(
      'users',
      'updateNames',
      { firstName: 'Grace', lastName: 'Hopper' },
      user.id,
    )
    const nameChanges = async (blogId: string) =>
      (await read(blogsA, blogId)).events.filter((e) => e.subject === 'Blog.authorNameChanged')
    const root = await eventually(async () => {
      const chain = await store.events.find({ operationId: renamed.operationId }).toArray()
      expect(chain.map((e) => e.subject).sort()).toEqual([
        'Blog.authorNameChanged',
        'Blog.authorNameChanged',
        'Blog.authorUpdated',
        'User.nameUpdated',
      ])
      return chain.find((e) => e.subject === 'User.nameUpdated')!
    })
    for (const blogId of blogIds)
      expect((await nameChanges(blogId)).map((e) => [e.data, e.parentId])).toEqual([
        [
          { blogId, authorId: user.id, firstName: 'Grace', lastName: 'Hopper', nameVersion: 2 },
          root._id,
        ],
      ])

    // A blog the read model shows behind on the name (as one still on its way there when the
    // rename ran): a run of the rename again appends to the blogs its first run did, and only
    // those, and finds its appends there.
    const late = await create('Three')
    await eventually(async () =>
      expect(await readModel.findOne({ _id: late })).toMatchObject({ authorNameVersion: 2 }),
    )
    await readModel.updateOne({ _id: late }, { $set: { authorNameVersion: 0 } })
    const { replayId, delivered } = await blogsA.core.replay({
      select: { operationId: renamed.operationId, subjects: ['User.nameUpdated'] },
      from: 'mongodb',
      to: 'blogs.updateAuthorName',
    })
    expect(delivered).toBe(1)
    await eventually(async () =>
      expect(
        await store.processed.countDocuments({
          _id: `${root._id}/blogs.updateAuthorName#replay:${replayId}`,
        }),
      ).toBe(1),
    )
    for (const blogId of blogIds) expect(await nameChanges(blogId)).toHaveLength(1)
    expect(await nameChanges(late)).toEqual([])
    expect(await store.failures.countDocuments({ eventId: root._id })).toBe(0)
  })

  it('reaches a blog created on a name the rename had not told the blogs service', async () => {
    // A blog whose Blog.created carries an older name than the copy's: as when the rename's
    // handler looked for the author's blogs before this one was in the read model.
    const { user } = await call<{ user: { id: string } }>('users', 'register', {
      username: 'katherine',
      password: 'correct-horse',
      firstName: 'Katherine',
      lastName: 'Coleman',
    })
    await call('users', 'updateNames', { firstName: 'Katherine', lastName: 'Johnson' }, user.id)
    await eventually(async () =>
      expect(
        await mongo
          .db(`${ns.database}_blogs`)
          .collection('authorNames')
          .countDocuments({ userId: user.id, nameVersion: 2 }),
      ).toBe(1),
    )
    const blogId = newId()
    const op = await blogsA.core.startOperation({ name: 'blogCreate' })
    const [created] = (
      await op.appendToStream(blogStream(blogId), [
        {
          event: BlogCreated,
          data: { blogId, authorId: user.id, title: 'Early', content: '', authorNameVersion: 0 },
        },
      ])
    ).events
    await eventually(async () =>
      expect(
        (await read(blogsA, blogId)).events.map((e) => [e.subject, e.parentId, e.data]),
      ).toEqual([
        ['Blog.created', op.id, expect.anything()],
        [
          'Blog.authorNameChanged',
          created!.id,
          {
            blogId,
            authorId: user.id,
            firstName: 'Katherine',
            lastName: 'Johnson',
            nameVersion: 2,
          },
        ],
      ]),
    )
  })
})
