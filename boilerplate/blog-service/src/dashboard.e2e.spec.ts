import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createTestNamespace,
  eventually,
  freePort,
  getTestServers,
  type NodeProcess,
} from '@event-driven/testing'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blogEnv, startBlogProcess } from './testing/blog-process.ts'
import { faultEnv } from './testing/faults.ts'
import { chainOf, registerAndLogin, updateNames } from './testing/flow.ts'

// The dashboard in headless Chromium (Debian's, driven by playwright-core), served by the blog
// service's admin part, against real servers. Screenshots go to test-output/dashboard/.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'dashboard')
const chromiumBin = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'
const shots = join(import.meta.dirname, '..', '..', '..', 'test-output', 'dashboard')
const failSwitch = join(tmpdir(), `${ns.id}-comments-fail`)
const secret = 'dashboard-secret'
let blog: NodeProcess
let browser: Browser
let gateway: string
let dashboard: string
let firstUpdate: string
let secondUpdate: string

beforeAll(async () => {
  if (!existsSync(chromiumBin)) {
    throw new Error(
      `no Chromium at ${chromiumBin}: apt-get install -y chromium (or set CHROMIUM_BIN)`,
    )
  }
  mkdirSync(shots, { recursive: true })
  const port = await freePort()
  const adminPort = await freePort()
  blog = await startBlogProcess(
    [],
    blogEnv(ns, servers, port, {
      ADMIN_API_KEYS: `ops:${secret}`,
      ADMIN_PORT: String(adminPort),
      // The comments author-name handler fails while failSwitch exists.
      ...faultEnv({
        failingHandler: {
          consumerGroup: 'comments.updateAuthorName',
          message: 'test switch: comments fail to update author names',
          whileFileExists: failSwitch,
        },
      }),
    }),
    ['users', 'blogs', 'comments', 'gateway', 'admin'],
  )
  gateway = `http://127.0.0.1:${port}/graphql`
  dashboard = `http://127.0.0.1:${adminPort}`

  // One name update whose chain completes, then one that the comments handler fails on.
  const { token } = await registerAndLogin(gateway, 'ada')
  firstUpdate = await updateNames(gateway, token, 'Ada', 'King')
  await chainOf(gateway, firstUpdate, (events) => expect(events).toHaveLength(3))
  writeFileSync(failSwitch, 'fail')
  secondUpdate = await updateNames(gateway, token, 'Augusta', 'King')
  await chainOf(gateway, secondUpdate, (events) =>
    expect(events[0]!.failures).toEqual([
      expect.objectContaining({
        consumerGroup: 'comments.updateAuthorName',
        inDeadLetterQueue: true,
      }),
    ]),
  )
  browser = await chromium.launch({
    executablePath: chromiumBin,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await blog?.stop()
  rmSync(failSwitch, { force: true })
  await ns.cleanup()
})

async function signIn(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  await page.goto(dashboard)
  await page.getByLabel('Admin API key').fill(secret)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Operations' }).waitFor()
  return page
}

describe('the dashboard', () => {
  it('shows nothing without credentials: pages go to sign-in, API calls get 401', async () => {
    const page = await browser.newPage()
    const response = await page.goto(`${dashboard}/#/dlq`)
    expect(new URL(page.url()).pathname).toBe('/sign-in')
    expect(response?.status()).toBe(200)
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    await page.getByLabel('Admin API key').fill('wrong')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').filter({ hasText: 'That key is not valid.' }).waitFor()
    for (const path of ['/api/operations', '/api/subjects', '/api/dlq', '/api/consumer-groups']) {
      expect((await page.request.get(`${dashboard}${path}`)).status()).toBe(401)
    }
    await page.screenshot({ path: join(shots, 'sign-in.png') })
    await page.close()
  })

  it('finds the userUpdateNames operation and draws its chain: three events, the right parents', async () => {
    const page = await signIn()
    await page.getByRole('searchbox').fill('userUpdateNames')
    await page.locator(`a[href="#/operations/${firstUpdate}"]`).click()
    const root = page.locator('li[data-event="User.nameUpdated"]')
    await root.waitFor()
    // Blog.authorUpdated and Comment.authorUpdated are children of User.nameUpdated.
    await root.locator('li[data-event="Blog.authorUpdated"]').waitFor()
    await root.locator('li[data-event="Comment.authorUpdated"]').waitFor()
    expect(await page.locator('li[data-event]').count()).toBe(3)
    await expect(
      root.getByText('✓ blogs.updateAuthorName').first().textContent(),
    ).resolves.toBeTruthy()
    await page.screenshot({ path: join(shots, 'operation.png'), fullPage: true })
    // A click opens the payload.
    await page.getByRole('button', { name: 'Open User.nameUpdated' }).click()
    await page.getByRole('dialog').getByText('"firstName": "Ada"').waitFor()
    await page.keyboard.press('Escape')

    await page.getByRole('link', { name: 'Subjects' }).click()
    await page.getByRole('img', { name: 'Who publishes and who consumes each subject' }).waitFor()
    await page.getByRole('cell', { name: 'User.nameUpdated', exact: true }).waitFor()
    await page.screenshot({ path: join(shots, 'subjects.png'), fullPage: true })
    await page.getByRole('link', { name: 'Consumer groups' }).click()
    await page.getByRole('heading', { name: 'Consumer groups' }).waitFor()
    await page.getByRole('cell', { name: 'comments.updateAuthorName', exact: true }).waitFor()
    await page.screenshot({ path: join(shots, 'consumer-groups.png'), fullPage: true })
    await page.close()
  })

  it('opens the DLQ entry of the failing handler, redrives it after the fix, and the chain completes', async () => {
    const page = await signIn()
    await page.getByRole('link', { name: 'Dead letter queue' }).click()
    await page.getByRole('heading', { name: 'Dead letter queue' }).waitFor()
    await page.getByRole('link', { name: 'comments.updateAuthorName', exact: true }).click()
    await page.getByText('Status: open').waitFor()
    await page.getByText('test switch: comments fail to update author names').first().waitFor()
    await page.screenshot({ path: join(shots, 'dlq-entry.png'), fullPage: true })

    rmSync(failSwitch) // the fix
    await page.getByRole('button', { name: 'Redrive' }).click()
    await page.getByRole('button', { name: 'Yes, redrive' }).click()
    await page.getByRole('status').filter({ hasText: 'redrive: the entry is redriven' }).waitFor()
    await page.getByText('Status: redriven').waitFor()
    await chainOf(gateway, secondUpdate, (events) =>
      expect(events.map((e) => e.subject).sort()).toEqual([
        'Blog.authorUpdated',
        'Comment.authorUpdated',
        'User.nameUpdated',
      ]),
    )
    await page.getByRole('link', { name: 'its operation' }).click()
    await page.locator('li[data-event="Comment.authorUpdated"]').waitFor() // live, no reload
    await page.screenshot({ path: join(shots, 'after-redrive.png'), fullPage: true })
    await eventually(async () => expect(await page.locator('li[data-event]').count()).toBe(3))
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    expect((await page.request.get(`${dashboard}/api/dlq`)).status()).toBe(401)
    await page.close()
  })
})
