import {
  createTestNamespace,
  freePort,
  getTestServers,
  type NodeProcess,
} from '@event-driven/testing'
import { afterAll, describe, it } from 'vitest'
import { blogEnv, startBlogProcess } from './testing/blog-process.ts'
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

  it('with everything in one process', async () => {
    const port = await freePort()
    const blog = await startBlogProcess([], blogEnv(namespaces[1]!, servers, port), [
      'users, blogs, comments, gateway',
    ])
    running.push(blog)
    await runBlogFlow(`http://127.0.0.1:${port}/graphql`, 'ada_monolith')
  })
})
