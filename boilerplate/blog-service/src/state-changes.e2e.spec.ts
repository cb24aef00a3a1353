import { changeSteps } from '@event-driven/core'
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
import { createBlog, registerAndLogin } from './testing/flow.ts'

// No one-sided writes, with real processes: the users service is SIGKILLed at each step of a
// rename. The caller learns the operation id and that the outcome is unknown; a retry with the
// same idempotency key applies nothing twice; once a users instance runs again, the user, its
// events and the copies in blogs and comments all agree.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'blog state changes')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const store = eventStore(mongo.db(`${ns.database}_event_driven`))
const usersDb = mongo.db(`${ns.database}_users`).collection<{
  _id: string
  firstName: string
  nameVersion: number
}>('users')
/** The processes running, with their part. */
const running = new Map<NodeProcess, string>()
let env: Record<string, string>
let url: string

const start = async (part: string, extra: Record<string, string> = {}) => {
  const process = await startBlogProcess(['--only', part], { ...env, ...extra }, [part])
  running.set(process, part)
  return process
}

/** Stops every users process a test left running (a failed one leaves them). */
const stopUsers = async () => {
  for (const [process] of [...running].filter(([, part]) => part === 'users')) {
    await process.stop()
    running.delete(process)
  }
}

beforeAll(async () => {
  const port = await freePort()
  url = `http://127.0.0.1:${port}/graphql`
  env = blogEnv(ns, servers, port, {
    RPC_TIMEOUT_MS: '2000',
    RELAY_INTERVAL_MS: '200',
    RELAY_MIN_AGE_MS: '500',
    OPERATION_DEADLINE_MS: '3000',
    OPERATION_SWEEP_INTERVAL_MS: '250',
  })
  await Promise.all([start('blogs'), start('comments'), start('gateway')])
})
afterAll(async () => {
  await Promise.all([...running.keys()].map((p) => p.stop()))
  await mongo.close()
  await ns.cleanup()
})

const RENAME = /* GraphQL */ `
  mutation ($f: String!, $k: String) {
    userUpdateNames(firstName: $f, lastName: "Hopper", idempotencyKey: $k) {
      operationId
    }
  }
`

describe('a rename whose users process is killed', () => {
  for (const step of changeSteps) {
    it(`after "${step}": outcome unknown, then state, events and copies converge`, async () => {
      const username = `grace_${step}`
      await stopUsers()
      const users = await start('users')
      const { token, userId } = await registerAndLogin(url, username)
      const blogId = await createBlog(url, token)
      const commented = await gql(
        url,
        `mutation ($b: ID!) { commentCreate(blogId: $b, content: "first") { operationId } }`,
        { b: blogId },
        token,
      )
      expect(commented.errors).toBeUndefined()
      await users.stop()
      running.delete(users)

      const dying = await start('users', faultEnv({ killAtChangeStep: step }))
      const first = await gql(url, RENAME, { f: `Grace ${step}`, k: `rename-${step}` }, token)
      expect(first.errors?.[0]?.extensions).toMatchObject({
        code: 'OUTCOME_UNKNOWN',
        operationId: expect.any(String) as string,
      })
      const operationId = first.errors![0]!.extensions!.operationId!
      await eventually(() => expect(dying.child.signalCode).toBe('SIGKILL'))
      running.delete(dying)

      const reconciling = await start('users')
      // Sent again with the same key: not run a second time, the same operation id.
      const again = await gql(url, RENAME, { f: `Grace ${step}`, k: `rename-${step}` }, token)
      expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'OUTCOME_UNKNOWN', operationId })

      // Reconciliation finishes the rename: the user at position 2, one event per position,
      // and both copies on the new name.
      await eventually(
        async () => {
          expect(await usersDb.findOne({ _id: userId })).toMatchObject({
            firstName: `Grace ${step}`,
            nameVersion: 2,
          })
          const events = await store.events
            .find({ 'change.key': username }, { sort: { 'change.position': 1 } })
            .toArray()
          expect(events.map((e) => [e.subject, e.change!.position, e.operationId])).toEqual([
            ['User.registered', 1, expect.any(String)],
            ['User.nameUpdated', 2, operationId],
          ])
          const read = await gql<{
            blog: { author: { firstName: string } }
            comments: { author: { firstName: string } }[]
          }>(
            url,
            `query ($b: ID!) { blog(id: $b) { author { firstName } } comments(blogId: $b) { author { firstName } } }`,
            { b: blogId },
          )
          expect(read.data).toEqual({
            blog: { author: { firstName: `Grace ${step}` } },
            comments: [{ author: { firstName: `Grace ${step}` } }],
          })
          expect(await store.outbox.countDocuments({ 'change.key': username })).toBe(0) // settled
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      )
      // Its process died before ending it: the sweeper ends it, its chain kept.
      await eventually(async () =>
        expect(await store.operations.findOne({ _id: operationId })).toMatchObject({
          status: 'failed',
          error: expect.stringMatching(/^abandoned/) as string,
        }),
      )
      await reconciling.stop()
      running.delete(reconciling)
    })
  }
})

describe('two concurrent renames of one user', () => {
  it('take distinct versions, and every copy ends on the source', async () => {
    await stopUsers()
    await start('users')
    const { token, userId } = await registerAndLogin(url, 'two_renames')
    const blogId = await createBlog(url, token)
    const renames = await Promise.all(
      ['Anita', 'Barbara', 'Frances', 'Radia'].map((f) => gql(url, RENAME, { f }, token)),
    )
    for (const rename of renames) expect(rename.errors).toBeUndefined()
    const events = await eventually(async () => {
      const found = await store.events
        .find({ 'change.key': 'two_renames', subject: 'User.nameUpdated' })
        .toArray()
      expect(found).toHaveLength(4)
      return found
    })
    expect(new Set(events.map((e) => e.change!.position))).toEqual(new Set([2, 3, 4, 5]))
    const last = events.find((e) => e.change!.position === 5)!.data as { firstName: string }
    await eventually(
      async () => {
        expect(await usersDb.findOne({ _id: userId })).toMatchObject({
          firstName: last.firstName,
          nameVersion: 5,
        })
        const read = await gql<{ blog: { author: { firstName: string } } }>(
          url,
          `query ($b: ID!) { blog(id: $b) { author { firstName } } }`,
          { b: blogId },
        )
        expect(read.data?.blog.author.firstName).toBe(last.firstName)
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    )
  })
})
