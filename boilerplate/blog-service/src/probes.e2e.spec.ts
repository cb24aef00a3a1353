import {
  createTestNamespace,
  eventually,
  getTestServers,
  type NodeProcess,
} from '@event-driven/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { blogEnv, freePort, startBlogProcess } from './testing/blog-process.ts'

// Every process of a split run serves its own /healthz and /readyz (PROBE_PORT=0: each child
// picks a free port and prints `probe: <url> (<part>)`), ready once its part can take work.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'blog probes')
let blog: NodeProcess | undefined
afterAll(async () => {
  await blog?.stop()
  await ns.cleanup()
})

describe('probes of the blog in --split mode', () => {
  it('each child process has its own probe, and each answers ready', async () => {
    const parts = ['users', 'blogs', 'comments', 'gateway']
    blog = await startBlogProcess(
      ['--split'],
      blogEnv(ns, servers, await freePort(), { PROBE_PORT: '0' }),
      parts,
    )
    const probes = new Map(
      [...blog.output().matchAll(/^probe: (http:\/\/\S+) \((\S+)\)$/gm)].map((m) => [m[2]!, m[1]!]),
    )
    expect([...probes.keys()].sort()).toEqual([...parts].sort())
    expect(new Set(probes.values()).size).toBe(parts.length)
    for (const [part, url] of probes) {
      expect((await fetch(`${url}/healthz`)).status, part).toBe(200)
      await eventually(async () => {
        const response = await fetch(`${url}/readyz`)
        const body = (await response.json()) as { notReady: string[] }
        expect(body.notReady, `${part}: ${JSON.stringify(body)}`).toEqual([])
        expect(response.status).toBe(200)
      })
    }
  }, 90_000)
})
