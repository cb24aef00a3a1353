import { eventStore } from '@event-driven/core/admin'
import {
  createTestNamespace,
  eventually,
  freePort,
  getTestServers,
  type NodeProcess,
} from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blogEnv, gql, startBlogProcess } from './testing/blog-process.ts'
import { faultEnv } from './testing/faults.ts'
import { chainOf, createBlog, registerAndLogin, updateNames } from './testing/flow.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'blog failures')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const store = eventStore(mongo.db(`${ns.database}_event_driven`))
let blog: NodeProcess
let url: string
beforeAll(async () => {
  const port = await freePort()
  url = `http://127.0.0.1:${port}/graphql`
  // The comments service's author-name handler always fails (injected into the process).
  blog = await startBlogProcess(
    [],
    blogEnv(
      ns,
      servers,
      port,
      faultEnv({
        failingHandler: {
          consumerGroup: 'comments.updateAuthorName',
          message: 'test switch: comments fail to update author names',
        },
      }),
    ),
    ['users, blogs, comments, gateway'],
  )
})
/** Events recorded, published or not (a published state change may still be in the outbox). */
const eventsRecorded = async () =>
  (await store.events.countDocuments()) +
  (await store.outbox.countDocuments({ publishedAt: { $exists: false } }))

afterAll(async () => {
  await blog?.stop()
  await mongo.close()
  await ns.cleanup()
})

describe('a failing handler in one branch of a chain', () => {
  it('lands in the DLQ after five attempts while the blogs side succeeds', async () => {
    const { token } = await registerAndLogin(url, 'grace')
    const blogId = await createBlog(url, token)
    const operationId = await updateNames(url, token, 'Grace', 'Hopper')

    const events = await chainOf(url, operationId, (chain) => {
      const root = chain.find((e) => e.subject === 'User.nameUpdated')
      expect(root?.failures).toEqual([
        {
          consumerGroup: 'comments.updateAuthorName',
          failures: 5,
          lastError: 'test switch: comments fail to update author names',
          inDeadLetterQueue: true,
        },
      ])
    })
    const root = events.find((e) => e.subject === 'User.nameUpdated')!
    expect(root.handledBy).toEqual(['blogs.updateAuthorName'])
    expect(events.map((e) => e.subject).sort()).toEqual([
      'Blog.authorNameChanged',
      'Blog.authorUpdated',
      'User.nameUpdated',
    ])
    const read = await gql<{ blog: { author: { firstName: string } } }>(
      url,
      `query ($b: ID!) { blog(id: $b) { author { firstName } } }`,
      { b: blogId },
    )
    expect(read.data?.blog.author.firstName).toBe('Grace')
    expect(await store.dlq.findOne({ eventId: root.id })).toMatchObject({
      consumerGroup: 'comments.updateAuthorName',
      operationId,
      parentId: operationId,
      status: 'open',
    })
  })
})

describe('bad input', () => {
  it('gets clear errors with operation ids; what is refused up front records nothing', async () => {
    const { token } = await registerAndLogin(url, 'linus')
    const operationsBefore = await store.operations.countDocuments()
    const eventsBefore = await eventsRecorded()
    const register = `mutation ($input: UserRegisterInput!) { userRegister(input: $input) { operationId } }`
    const input = { username: 'someone', password: 'correct-horse', firstName: 'A', lastName: 'B' }

    const cases: [
      string,
      Promise<{
        errors?: {
          message: string
          extensions?: { code?: string; field?: string; operationId?: string }
        }[]
      }>,
      object,
    ][] = [
      [
        'bad username',
        gql(url, register, { input: { ...input, username: 'No Spaces!' } }),
        { code: 'BAD_USER_INPUT', field: 'username' },
      ],
      [
        'short password',
        gql(url, register, { input: { ...input, password: 'short' } }),
        { code: 'BAD_USER_INPUT', field: 'password' },
      ],
      [
        'empty name',
        gql(url, register, { input: { ...input, firstName: '   ' } }),
        { code: 'BAD_USER_INPUT', field: 'firstName' },
      ],
      [
        'duplicate username',
        gql(url, register, { input: { ...input, username: 'linus' } }),
        { code: 'USERNAME_TAKEN', field: 'username' },
      ],
      [
        'wrong password',
        gql(url, `mutation { userLogin(username: "linus", password: "wrong-one") { token } }`),
        { code: 'WRONG_CREDENTIALS' },
      ],
      [
        'no token',
        gql(url, `mutation { blogCreate(title: "t", content: "c") { operationId } }`),
        { code: 'UNAUTHENTICATED' },
      ],
      [
        'forged token',
        gql(
          url,
          `mutation { blogCreate(title: "t", content: "c") { operationId } }`,
          {},
          `${token.split('.')[0]}.forged`,
        ),
        { code: 'UNAUTHENTICATED' },
      ],
      [
        'missing blog',
        gql(
          url,
          `mutation { commentCreate(blogId: "nope", content: "hi") { operationId } }`,
          {},
          token,
        ),
        { code: 'NOT_FOUND', field: 'blogId' },
      ],
      [
        'missing blog to update',
        gql(url, `mutation { blogUpdate(id: "nope", title: "t") { operationId } }`, {}, token),
        { code: 'NOT_FOUND', field: 'id' },
      ],
      [
        'NUL in content',
        gql(
          url,
          'mutation($content: String!) { blogCreate(title: "t", content: $content) { operationId } }',
          { content: 'a\u0000b' },
          token,
        ),
        { code: 'BAD_USER_INPUT', field: 'content' },
      ],
      [
        'empty title',
        gql(url, `mutation { blogCreate(title: " ", content: "c") { operationId } }`, {}, token),
        { code: 'BAD_USER_INPUT', field: 'title' },
      ],
    ]
    const recordedAsFailed: string[] = []
    for (const [what, call, expected] of cases) {
      const result = await call
      const extensions = result.errors?.[0]?.extensions
      expect(extensions, what).toMatchObject({
        ...expected,
        operationId: expect.any(String) as string,
      })
      expect(result.errors?.[0]?.message.length, what).toBeGreaterThan(5)
      if (what === 'duplicate username' || what === 'wrong password')
        recordedAsFailed.push(extensions!.operationId!)
    }
    const invalid = await gql(
      url,
      `mutation { userRegister(input: { username: "x" }) { operationId } }`,
    )
    expect(invalid.errors?.[0]?.message).toContain('password')

    // Refusals after the command was recorded (it is recorded first) end as failed operations;
    // input refused up front records nothing.
    expect(await store.operations.countDocuments()).toBe(operationsBefore + 2)
    const failed = await store.operations.find({ _id: { $in: recordedAsFailed } }).toArray()
    expect(failed.map((op) => [op.name, op.status, op.error]).sort()).toEqual([
      ['userLogin', 'failed', 'wrong username or password'],
      ['userRegister', 'failed', 'username "linus" is taken'],
    ])
    await eventually(async () => expect(await eventsRecorded()).toBe(eventsBefore))
  })
})

describe('a mutation sent again', () => {
  it('with the same idempotency key is applied once, and answers the same', async () => {
    const { token, userId } = await registerAndLogin(url, 'kathleen')
    const rename = () =>
      gql<{ userUpdateNames: { operationId: string } }>(
        url,
        `mutation { userUpdateNames(firstName: "Kathleen", lastName: "Booth", idempotencyKey: "rename-1") { operationId } }`,
        {},
        token,
      )
    const [first, second] = [await rename(), await rename()]
    expect(first.errors).toBeUndefined()
    expect(second.data).toEqual(first.data)
    const operationId = first.data!.userUpdateNames.operationId
    expect(await store.operations.countDocuments({ name: 'userUpdateNames', actor: userId })).toBe(
      1,
    )
    await eventually(async () =>
      expect(
        (await store.events.countDocuments({ operationId, subject: 'User.nameUpdated' })) +
          // A published state change stays in the outbox (in `events` too) until it settles.
          (await store.outbox.countDocuments({
            operationId,
            subject: 'User.nameUpdated',
            publishedAt: { $exists: false },
          })),
      ).toBe(1),
    )
  })
})

describe('a token whose user was deleted', () => {
  it('acts as no one: every mutation with it is refused, and nothing is recorded', async () => {
    const { token, userId } = await registerAndLogin(url, 'ghost')
    await mongo
      .db(`${ns.database}_users`)
      .collection('users')
      .deleteOne({ _id: userId as never })
    const before = await store.operations.countDocuments()
    const created = await gql(
      url,
      `mutation { blogCreate(title: "t", content: "c") { operationId } }`,
      {},
      token,
    )
    expect(created.errors?.[0]).toMatchObject({
      message: 'the user of this token no longer exists: log in again',
      extensions: { code: 'UNAUTHENTICATED', operationId: expect.any(String) as string },
    })
    expect(await store.operations.countDocuments()).toBe(before)
  })
})
