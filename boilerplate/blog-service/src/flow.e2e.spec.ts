import {
  createTestNamespace,
  freePort,
  getTestServers,
  type NodeProcess,
} from '@event-driven/testing'
import { developmentWebhookSecret, signedWebhookHeaders } from '@event-driven/service-kit'
import { eventually } from '@event-driven/testing'
import { connect } from '@nats-io/transport-node'
import { afterAll, describe, expect, it } from 'vitest'
import { blogEnv, gql, startBlogProcess } from './testing/blog-process.ts'
import { chainOf, createBlog, registerAndLogin, runBlogFlow } from './testing/flow.ts'

// The worked example end to end over HTTP, with the same code run two ways.
const servers = await getTestServers()
const running: NodeProcess[] = []
const namespaces = [
  createTestNamespace(servers, 'blog split'),
  createTestNamespace(servers, 'blog monolith'),
]
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()))
  await Promise.all(namespaces.map((ns) => ns.cleanup()))
})

const moderationSecret = developmentWebhookSecret('the flow test’s moderation sender')
const digestEveryMs = 500
let monolith = ''

describe('the blog service', () => {
  it('with each service and the gateway as separate processes', async () => {
    const port = await freePort()
    const blog = await startBlogProcess(['--split'], blogEnv(namespaces[0]!, servers, port), [
      'users',
      'blogs',
      'comments',
      'gateway',
    ])
    running.push(blog)
    await runBlogFlow(`http://127.0.0.1:${port}/graphql`, 'ada_split')
  })

  it('with everything in one process; a rename sent on NATS without the gateway changes no one', async () => {
    const port = await freePort()
    monolith = `http://127.0.0.1:${port}`
    const blog = await startBlogProcess(
      [],
      blogEnv(namespaces[1]!, servers, port, {
        WEBHOOK_SECRET_MODERATION: moderationSecret,
        BLOG_DIGEST_EVERY_MS: String(digestEveryMs),
      }),
      ['users, blogs, comments, gateway'],
    )
    running.push(blog)
    await runBlogFlow(`http://127.0.0.1:${port}/graphql`, 'ada_monolith')

    // Anyone who may publish on NATS sends the users service a rename "as" Ada: refused, since
    // the gateway did not sign it; her names stay as they were.
    const url = `http://127.0.0.1:${port}/graphql`
    const register = await gql<{ userRegister: { user: { id: string } } }>(
      url,
      `mutation { userRegister(input: { username: "ada_target", password: "correct-horse", firstName: "Ada", lastName: "Lovelace" }) { user { id } } }`,
    )
    const userId = register.data!.userRegister.user.id
    const nc = await connect({ servers: servers.natsUrl })
    try {
      const reply = await nc.request(
        `${namespaces[1]!.subjectPrefix}_rpc.users.updateNames`,
        JSON.stringify({
          input: { firstName: 'Mallory', lastName: 'Forged' },
          actor: { userId },
          operationId: 'forged-rename',
        }),
        { timeout: 5_000 },
      )
      expect(reply.json()).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    } finally {
      await nc.close()
    }
    const users = await gql<{ user: { firstName: string; lastName: string } }>(
      url,
      `query ($id: ID!) { user(id: $id) { firstName lastName } }`,
      { id: userId },
    )
    expect(users.data!.user).toEqual({ firstName: 'Ada', lastName: 'Lovelace' })
    const forged = await gql<{ operation: unknown }>(
      url,
      `{ operation(id: "forged-rename") { id } }`,
    )
    expect(forged.data!.operation).toBeNull()
  })

  it('a signed moderation webhook and the digest timer: operations with their chains', async () => {
    const url = `${monolith}/graphql`
    const { token } = await registerAndLogin(url, 'ada_moderated')
    const before = Date.now()
    const blogId = await createBlog(url, token)
    const after = Date.now()
    const created = await gql<{ commentCreate: { comment: { id: string } } }>(
      url,
      `mutation ($b: ID!) { commentCreate(blogId: $b, content: "Buy cheap watches") { comment { id } } }`,
      { b: blogId },
      token,
    )
    const commentId = created.data!.commentCreate.comment.id

    // The moderation service's delivery, signed as Standard Webhooks senders sign, sent twice.
    const body = JSON.stringify({ commentId, verdict: 'rejected' })
    const deliver = () =>
      fetch(`${monolith}/webhooks/moderation`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signedWebhookHeaders(moderationSecret, `msg_${commentId}`, body),
        },
        body,
      })
    const first = await deliver()
    const answer = (await first.json()) as { operationId: string; result: unknown }
    expect(first.status).toBe(200)
    expect(answer.result).toEqual({ commentId, verdict: 'rejected' })
    const again = await deliver()
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.json()).toEqual(answer)
    const chain = await chainOf(url, answer.operationId, (events) =>
      expect(events.map((e) => e.subject)).toEqual(['Comment.moderated']),
    )
    expect(chain[0]!.parentId).toBe(answer.operationId)
    const operation = await gql<{ operation: { name: string; actor: string; status: string } }>(
      url,
      `query ($id: ID!) { operation(id: $id) { name actor status } }`,
      { id: answer.operationId },
    )
    expect(operation.data!.operation).toEqual({
      name: 'commentModerate',
      actor: 'webhook:moderation',
      status: 'completed',
    })
    const comments = await gql<{ comments: { moderation: string | null }[] }>(
      url,
      `query ($b: ID!) { comments(blogId: $b) { moderation } }`,
      { b: blogId },
    )
    expect(comments.data!.comments).toEqual([{ moderation: 'rejected' }])

    // The second tick after the blog was created counts it: `timer.blogs.blogDigest.<tick>`.
    const ticks = [before, after].map((time) => Math.floor(time / digestEveryMs) + 2)
    const digest = await eventually(
      async () => {
        for (let tick = ticks[0]!; tick <= ticks[1]!; tick++) {
          const found = await gql<{
            operation: {
              name: string
              actor: string
              status: string
              events: { subject: string; parentId: string; data: string }[]
            } | null
          }>(
            url,
            `query ($id: ID!) { operation(id: $id) { name actor status events { subject parentId data } } }`,
            { id: `timer.blogs.blogDigest.${tick}` },
          )
          const op = found.data?.operation
          if (op?.events.some((e) => e.subject === 'Blog.digestCompiled'))
            return { id: `timer.blogs.blogDigest.${tick}`, ...op }
        }
        throw new Error(`no digest of ticks ${ticks.join('..')} yet`)
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    )
    expect(digest).toMatchObject({
      name: 'blogDigest',
      actor: 'timer:blogDigest',
      status: 'completed',
    })
    const event = digest.events.find((e) => e.subject === 'Blog.digestCompiled')!
    expect(event.parentId).toBe(digest.id)
    expect(JSON.parse(event.data)).toMatchObject({ blogsCreated: expect.any(Number) as number })
  })
})
