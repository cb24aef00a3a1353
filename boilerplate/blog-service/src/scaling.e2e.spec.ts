import {
  createTestNamespace,
  eventually,
  freePort,
  getTestServers,
  type NodeProcess,
} from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'
import { blogEnv, gql, startBlogProcess } from './testing/blog-process.ts'
import { createBlog, registerAndLogin } from './testing/flow.ts'

// A second instance of a service shares its work through the consumer groups, with no
// configuration change: the same command, started twice.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'blog scaling')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const running: NodeProcess[] = []
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()))
  await mongo.close()
  await ns.cleanup()
})

describe('two instances of the blogs service', () => {
  it('split a burst of 100 name updates, apply each once, and end with the latest name', async () => {
    const port = await freePort()
    const env = blogEnv(ns, servers, port)
    const start = async (part: string, extra: Record<string, string> = {}) => {
      const process = await startBlogProcess(['--only', part], { ...env, ...extra }, [part])
      running.push(process)
      return process
    }
    await start('users')
    await start('comments')
    const blogsA = await start('blogs', { LOG_LEVEL: 'debug' })
    const blogsB = await start('blogs', { LOG_LEVEL: 'debug' })
    await start('gateway')
    const url = `http://127.0.0.1:${port}/graphql`

    const { token } = await registerAndLogin(url, 'barbara')
    const blogId = await createBlog(url, token)
    // A burst of 100 updates, one after the other as fast as they go: the two blogs instances
    // then handle them concurrently and in any order.
    for (let n = 1; n <= 100; n++) {
      const result = await gql(
        url,
        `mutation ($f: String!) { userUpdateNames(firstName: $f, lastName: "Liskov") { operationId } }`,
        { f: `Barbara${n}` },
        token,
      )
      expect(result.errors).toBeUndefined()
    }
    const me = await gql<{ me: { firstName: string } }>(url, `{ me { firstName } }`, {}, token)
    const latest = me.data!.me.firstName
    expect(latest).toBe('Barbara100')

    await eventually(
      async () => {
        const read = await gql<{ blog: { author: { firstName: string } } }>(
          url,
          `query ($b: ID!) { blog(id: $b) { author { firstName } } }`,
          { b: blogId },
        )
        expect(read.data?.blog.author.firstName).toBe(latest)
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    )
    const ledger = mongo.db(`${ns.database}_event_driven`).collection<{ _id: string }>('processed')
    await eventually(async () =>
      expect(await ledger.countDocuments({ _id: { $regex: '/blogs\\.updateAuthorName$' } })).toBe(
        100,
      ),
    )

    const handled = (output: string) =>
      output
        .split('\n')
        .filter(
          (line) =>
            line.includes('"consumerGroup":"blogs.updateAuthorName"') &&
            line.includes('"msg":"handled"'),
        ).length
    const [a, b] = [handled(blogsA.output()), handled(blogsB.output())]
    expect(a + b).toBe(100)
    expect(a).toBeGreaterThan(0)
    expect(b).toBeGreaterThan(0)
    // Each rename appends to the blog's stream and the read model follows: the burst takes about
    // 1.7 times as long as when blogs were documents, up to a minute on a loaded 2-core machine.
  }, 120_000)
})
