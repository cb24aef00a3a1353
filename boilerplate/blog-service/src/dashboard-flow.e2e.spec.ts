import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { FlowGraphAnswer } from '@event-driven/core/admin'
import {
  createTestNamespace,
  eventually,
  freePort,
  getTestServers,
  type NodeProcess,
} from '@event-driven/testing'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blogEnv, startBlogProcess } from './testing/blog-process.ts'
import { faultEnv } from './testing/faults.ts'
import {
  drawnGraph,
  graphProblems,
  launchChromium,
  screenshotDir,
  signIn,
} from './testing/browser.ts'
import { chainOf, registerAndLogin, updateNames } from './testing/flow.ts'

// The blog's flow on the dashboard's Subjects page, in Chromium against the real servers: a
// userUpdateNames operation runs (the comments' handler fails twice, then succeeds), then the
// graph draws its subjects and consumer groups with their rates and failures, and
// User.nameUpdated's chain summary shows what follows it, two levels deep.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'dashboard flow')
const secret = 'dashboard-flow-secret'
let blog: NodeProcess
let browser: Browser
let dashboard: string

beforeAll(async () => {
  mkdirSync(screenshotDir, { recursive: true })
  const port = await freePort()
  const adminPort = await freePort()
  blog = await startBlogProcess(
    [],
    blogEnv(ns, servers, port, {
      ADMIN_API_KEYS: `ops:${secret}`,
      ADMIN_PORT: String(adminPort),
      ...faultEnv({
        failingHandler: {
          consumerGroup: 'comments.updateAuthorName',
          message: 'test: the comments fail to rename twice',
          times: 2,
        },
      }),
    }),
    ['users', 'blogs', 'comments', 'gateway', 'admin'],
  )
  const gateway = `http://127.0.0.1:${port}/graphql`
  dashboard = `http://127.0.0.1:${adminPort}`
  const { token } = await registerAndLogin(gateway, 'ada')
  const update = await updateNames(gateway, token, 'Ada', 'King')
  await chainOf(gateway, update, (events) => expect(events).toHaveLength(3))
  browser = await launchChromium()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await blog?.stop()
  await ns.cleanup()
})

/** What follows the rename: [from, to, runs or events, failed runs]. */
const followsNameUpdate = [
  ['subject:User.nameUpdated', 'group:blogs.updateAuthorName', 1, 0],
  ['group:blogs.updateAuthorName', 'subject:Blog.authorUpdated', 1, 0],
  ['subject:User.nameUpdated', 'group:comments.updateAuthorName', 3, 2],
  ['group:comments.updateAuthorName', 'subject:Comment.authorUpdated', 1, 0],
] as const

/**
 * Waits until the services wrote the rename's counts and the API has them: a minute's counts are
 * written once it has ended, within 10 s, so this takes up to 70 s.
 */
async function countedRename(page: Page): Promise<FlowGraphAnswer> {
  return eventually(
    async () => {
      const graph = (await (
        await page.request.get(`${dashboard}/api/flow`)
      ).json()) as FlowGraphAnswer
      const edge = (from: string, to: string) =>
        graph.edges.find((e) => e.from === from && e.to === to)
      expect(edge('service:users', 'subject:User.nameUpdated')).toMatchObject({ count: 1 })
      for (const [from, to, count, failures] of followsNameUpdate) {
        expect(edge(from, to), `${from} → ${to}`).toMatchObject({ count, failures })
      }
      return graph
    },
    { timeoutMs: 100_000, intervalMs: 1_000 },
  )
}

describe('the flow page on the blog', () => {
  it("draws the blog's subjects and consumer groups with their rates, and User.nameUpdated's chain", async () => {
    // Wide enough for the blog's whole graph beside the chain summary (the docs' screenshot).
    const page = await signIn(browser, dashboard, secret, { width: 1600, height: 1000 })
    const graph = await countedRename(page)
    await page.getByRole('link', { name: 'Subjects' }).click()
    await page.getByRole('heading', { name: 'Subjects' }).waitFor()

    // Every node the API names is drawn: the blog's services, subjects and consumer groups.
    const rename = page.getByRole('button', { name: 'Subject User.nameUpdated' })
    await rename.waitFor()
    for (const name of ['Consumer group blogs.updateAuthorName', 'Service users']) {
      await page.getByRole('img', { name }).waitFor()
    }
    const drawn = await drawnGraph(page)
    expect(drawn.nodes.map((n) => n.id).sort()).toEqual(graph.nodes.map((n) => n.id).sort())
    expect(graphProblems(drawn)).toEqual([])
    // Each edge of the rename says its rate and count; the failing one, in red, its failures.
    for (const [from, to, count, failures] of followsNameUpdate) {
      const edge = page.locator(`.flow-scroll [data-edge="${from}→${to}"]`)
      const lines = await edge.locator('text').allTextContents()
      expect(lines[0]).toMatch(new RegExp(`^(<0\\.1|[\\d.]+)/min · ${count}$`))
      if (failures === 0) expect(lines).toHaveLength(1)
      else {
        expect(lines[1]).toBe(`67% failed (${failures})`)
        expect(await edge.getAttribute('class')).toContain('failing')
      }
    }

    await rename.click()
    expect(new URL(page.url()).hash).toBe('#/subjects/User.nameUpdated')
    const summary = page.getByRole('region', { name: 'What follows User.nameUpdated' })
    await summary.getByText('1 event in the last hour').waitFor()
    const steps = summary.locator('li')
    await eventually(async () => expect(await steps.count()).toBe(4))
    const rows = await steps.evaluateAll((items) =>
      items.map((li) => [
        Number(li.getAttribute('data-depth')),
        li.querySelector('.chain-step')?.textContent,
      ]),
    )
    // Two levels: each consumer group, and under it the subject it emits.
    expect(rows.slice().sort()).toEqual(
      [
        [1, '→ group blogs.updateAuthorName'],
        [2, '→ emits Blog.authorUpdated'],
        [1, '→ group comments.updateAuthorName'],
        [2, '→ emits Comment.authorUpdated'],
      ].sort(),
    )
    expect(rows[1]![0]).toBe(2) // each emitted subject right under its group
    // Each step's count, failure share and times: the comments' group failed 2 of its 3 runs.
    const figures = await summary.locator('.chain-figures').allTextContents()
    const withFigures = (start: string) =>
      figures.filter((f) => new RegExp(`^${start} · p50 \\S+ m?s · p95 \\S+ m?s$`).test(f))
    expect(withFigures('1 run · 0% failed')).toHaveLength(1)
    expect(withFigures('3 runs · 67% failed')).toHaveLength(1)
    expect(withFigures('1 event · 0% failed')).toHaveLength(2)
    expect(await page.locator('.flow-scroll .flow-edge.downstream').count()).toBe(4)
    await page.screenshot({ path: join(screenshotDir, 'flow-blog.png'), fullPage: true })

    // Another window keeps the selection, in the address too.
    await page
      .getByRole('group', { name: 'Window' })
      .getByRole('link', { name: '24 hours' })
      .click()
    await summary.getByText('1 event in the last 24 hours').waitFor()
    expect(new URL(page.url()).hash).toBe('#/subjects/User.nameUpdated?window=24h')
    await page.close()
  }, 150_000)
})
