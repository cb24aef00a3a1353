import {
  createTestNamespace,
  freePort,
  getTestServers,
  type NodeProcess,
} from '@event-driven/testing'
import { connect } from '@nats-io/transport-node'
import { afterAll, describe, expect, it } from 'vitest'
import { blogEnv, gql, startBlogProcess } from './testing/blog-process.ts'
import { runBlogFlow } from './testing/flow.ts'

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
    const blog = await startBlogProcess([], blogEnv(namespaces[1]!, servers, port), [
      'users, blogs, comments, gateway',
    ])
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
})
