import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { alertMessage } from '@event-driven/core/admin'
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
import { launchChromium, screenshotDir, signIn as signInWith } from './testing/browser.ts'
import { faultEnv } from './testing/faults.ts'
import { chainOf, registerAndLogin, updateNames, type ChainEvent } from './testing/flow.ts'

// The dashboard in headless Chromium (Debian's, driven by playwright-core), served by the blog
// service's admin part, against real servers: every page and every action, with an operator key
// and a read-only one. Screenshots go to test-output/dashboard/<page>.png.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'dashboard')
const shots = screenshotDir
const failSwitch = join(tmpdir(), `${ns.id}-comments-fail`)
const secret = 'dashboard-secret'
const readSecret = 'viewer-secret'
const failingGroup = 'comments.updateAuthorName'
const failure = 'test switch: comments fail to update author names'
let blog: NodeProcess
let browser: Browser
let gateway: string
let dashboard: string
let userId: string
/** A rename whose chain completes, then four the comments handler fails on (one per action). */
let completed: string
const failed = { redrive: '', discard: '', resolve: '', bulk: '' }
/** Each operation's User.nameUpdated event. */
const renamedEvent: Record<string, string> = {}
let completedEvents: ChainEvent[]

const inDlq = (events: ChainEvent[]) =>
  expect(events[0]!.failures).toEqual([
    expect.objectContaining({ consumerGroup: failingGroup, inDeadLetterQueue: true }),
  ])

beforeAll(async () => {
  mkdirSync(shots, { recursive: true })
  const port = await freePort()
  const adminPort = await freePort()
  blog = await startBlogProcess(
    [],
    blogEnv(ns, servers, port, {
      ADMIN_API_KEYS: `ops:${secret},viewer:${readSecret}:read`,
      ADMIN_PORT: String(adminPort),
      // The comments author-name handler fails while failSwitch exists.
      ...faultEnv({
        failingHandler: {
          consumerGroup: failingGroup,
          message: failure,
          whileFileExists: failSwitch,
        },
      }),
    }),
    ['users', 'blogs', 'comments', 'gateway', 'admin'],
  )
  gateway = `http://127.0.0.1:${port}/graphql`
  dashboard = `http://127.0.0.1:${adminPort}`

  const login = await registerAndLogin(gateway, 'ada')
  userId = login.userId
  completed = await updateNames(gateway, login.token, 'Ada', 'King')
  completedEvents = await chainOf(gateway, completed, (events) => expect(events).toHaveLength(3))
  writeFileSync(failSwitch, 'fail')
  failed.redrive = await updateNames(gateway, login.token, 'Augusta', 'King')
  failed.discard = await updateNames(gateway, login.token, 'Augusta', 'Byron')
  failed.resolve = await updateNames(gateway, login.token, 'Ada', 'Byron')
  failed.bulk = await updateNames(gateway, login.token, 'Augusta Ada', 'King')
  for (const id of [completed, ...Object.values(failed)]) {
    const events = await chainOf(gateway, id, id === completed ? () => undefined : inDlq)
    renamedEvent[id] = events.find((e) => e.subject === 'User.nameUpdated')!.id
  }
  browser = await launchChromium()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await blog?.stop()
  rmSync(failSwitch, { force: true })
  await ns.cleanup()
})

const signIn = (key = secret): Promise<Page> =>
  signInWith(browser, dashboard, key, { width: 1280, height: 800 })

/** The operations listed, in order. */
const operationRows = (page: Page) =>
  page
    .locator('table[aria-label="Operations"] tbody tr')
    .evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.operation))

/** The DLQ entries listed: each one's consumer group and subject. */
const dlqRows = (page: Page) =>
  page
    .locator('table[aria-label="DLQ entries"] tbody tr')
    .evaluateAll((rows) => rows.map((row) => (row as HTMLElement).innerText.split('\t')[0]))

const actionButtons = (page: Page) =>
  page.getByRole('button', { name: /redrive|discard|resolve/i }).count()

/** The entry of the failing group for one operation's rename, opened from the filtered list. */
async function openEntry(page: Page, operationId: string) {
  const filter = `consumerGroup=${failingGroup}&eventId=${renamedEvent[operationId]}`
  const { entries } = (await (await page.request.get(`${dashboard}/api/dlq?${filter}`)).json()) as {
    entries: { _id: string }[]
  }
  expect(entries).toHaveLength(1)
  await page.goto(`${dashboard}/#/dlq?${filter}`)
  await page.locator(`a[href="#/dlq/${entries[0]!._id}"]`).click()
  await page.getByText('Status: open').waitFor()
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

  it('lists operations with actor names (the id on hover) and relative times (the ISO time on hover)', async () => {
    const page = await signIn()
    const row = page.locator(`tr[data-operation="${completed}"]`)
    // The user's name now, from the users service; the recorded id on hover.
    const actor = row.locator('.actor')
    await eventually(async () => expect(await actor.textContent()).toBe('Augusta Ada King (ada)'))
    expect(await actor.getAttribute('title')).toBe(userId)
    const { operations } = (await (
      await page.request.get(`${dashboard}/api/operations?search=${completed}`)
    ).json()) as { operations: { startedAt: string }[] }
    const started = row.locator('time').first()
    const iso = new Date(operations[0]!.startedAt).toISOString()
    expect(await started.getAttribute('dateTime')).toBe(iso)
    expect(await started.getAttribute('title')).toBe(iso)
    expect(await started.textContent()).toMatch(/^(just now|\d+ s ago|\d+ min ago)$/)
    await page.screenshot({ path: join(shots, 'operations.png'), fullPage: true })
    await page.close()
  })

  it('finds operations by operation id, event id or subject, from the page and the header', async () => {
    const page = await signIn()
    const search = page.getByRole('searchbox', {
      name: 'Find operations by id, name, actor, event id or subject',
    })
    await search.fill(completed)
    await eventually(async () => expect(await operationRows(page)).toEqual([completed]))
    // The search is in the address: a reload keeps it.
    expect(new URL(page.url()).hash).toBe(`#/operations?search=${completed}`)
    await page.reload()
    await eventually(async () => expect(await operationRows(page)).toEqual([completed]))

    const blogEvent = completedEvents.find((e) => e.subject === 'Blog.authorUpdated')!
    await search.fill(blogEvent.id)
    await eventually(async () => expect(await operationRows(page)).toEqual([completed]))

    // Every rename published User.nameUpdated, newest first; the registration did not.
    await search.fill('User.nameUpdated')
    const renames = [completed, ...Object.values(failed)].reverse()
    await eventually(async () => expect(await operationRows(page)).toEqual(renames))
    await search.fill('User.nameupdated')
    await page.getByText('No operation, event or subject is exactly “User.nameupdated”.').waitFor()

    // The header's search works from any page.
    await page.getByRole('link', { name: 'Consumer groups' }).click()
    const header = page.getByRole('searchbox', { name: 'Search operations, events and subjects' })
    await header.fill(renamedEvent[failed.bulk]!)
    await header.press('Enter')
    await page.getByRole('heading', { name: 'Operations' }).waitFor()
    await eventually(async () => expect(await operationRows(page)).toEqual([failed.bulk]))
    await page.close()
  })

  it('draws the waterfall: each event and group, attempts with their errors, the DLQ in place', async () => {
    const page = await signIn()
    await page.goto(`${dashboard}/#/operations/${failed.redrive}`)
    const renamed = page.locator('tr[data-event="User.nameUpdated"]')
    await renamed.waitFor()
    expect(await renamed.getAttribute('data-depth')).toBe('0')
    // Blog.authorUpdated, emitted by blogs' handler, is drawn under it.
    const told = page.locator('tr[data-event="Blog.authorUpdated"]')
    await told.waitFor()
    expect(await told.getAttribute('data-depth')).toBe('1')
    expect(await told.textContent()).toContain('by blogs.updateAuthorName')
    const groups = await page
      .locator('tr.wf-group')
      .evaluateAll((rows) =>
        rows.map((r) => [(r as HTMLElement).dataset.group, (r as HTMLElement).dataset.state]),
      )
    expect(groups).toContainEqual(['blogs.updateAuthorName', 'handled'])
    expect(groups).toContainEqual([failingGroup, 'dlq'])
    const failing = page.locator(`tr[data-group="${failingGroup}"]`)
    // Five failed attempts, each with its error on focus; the retry waits between them.
    await eventually(async () =>
      expect(await failing.locator('.wf-attempt[data-outcome="failed"]').count()).toBe(5),
    )
    expect(await failing.locator('.wf-wait').count()).toBeGreaterThan(0)
    const first = failing.locator('.wf-attempt[data-attempt="1"]')
    await first.focus()
    const tip = first.getByRole('tooltip')
    await tip.waitFor()
    expect(await tip.textContent()).toMatch(
      new RegExp(`^attempt 1 failed \\(took \\d+(\\.\\d)? (ms|s)\\): ${failure}$`),
    )
    expect(await failing.textContent()).toContain('✗ in the DLQ · 5 failures')
    expect(await page.locator('tr.wf-event').first().textContent()).toMatch(
      /published in \d+(\.\d)? (ms|s)/,
    )
    await page.screenshot({ path: join(shots, 'operation.png'), fullPage: true })

    // A click opens the payload.
    await page.getByRole('button', { name: 'Open User.nameUpdated' }).click()
    await page.getByRole('dialog').getByText('"firstName": "Augusta"').waitFor()
    await page.keyboard.press('Escape')

    // The DLQ state links to that event's entry.
    await failing.getByRole('link', { name: 'open the DLQ entry' }).click()
    await page.getByRole('heading', { name: 'Dead letter queue' }).waitFor()
    expect(await page.getByLabel('Event id', { exact: true }).inputValue()).toBe(
      renamedEvent[failed.redrive],
    )
    await eventually(async () => expect(await dlqRows(page)).toEqual([failingGroup]))
    await page.close()
  })

  it('shows the subjects and the consumer groups; a group links to its DLQ entries', async () => {
    const page = await signIn()
    await page.getByRole('link', { name: 'Subjects' }).click()
    await page.getByRole('heading', { name: 'Subjects' }).waitFor()
    await page.getByRole('cell', { name: 'User.nameUpdated', exact: true }).waitFor()
    await page.screenshot({ path: join(shots, 'subjects.png'), fullPage: true })
    await page.getByRole('link', { name: 'Consumer groups' }).click()
    await page.getByRole('heading', { name: 'Consumer groups' }).waitFor()
    await page.getByRole('cell', { name: failingGroup, exact: true }).waitFor()
    const last = page.locator('table[aria-label="Consumer groups"] time').first()
    expect(await last.getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/)
    await page.screenshot({ path: join(shots, 'consumer-groups.png'), fullPage: true })
    await page.getByRole('link', { name: `4 open DLQ entries of ${failingGroup}` }).click()
    await page.getByRole('heading', { name: 'Dead letter queue' }).waitFor()
    expect(await page.getByLabel('Consumer group', { exact: true }).inputValue()).toBe(failingGroup)
    await page.close()
  })

  it("opens the DLQ filtered from a Slack alert's link, and keeps the filters in the address", async () => {
    const page = await signIn()
    const message = alertMessage(
      [
        {
          _id: 'e#1',
          service: 'comments',
          consumerGroup: failingGroup,
          subject: 'User.nameUpdated',
          error: failure,
          createdAt: new Date(),
        },
      ],
      dashboard,
    )
    // As Slack shows it: <url|text> with & escaped.
    const link = /<([^|>]+)\|open in the dashboard>/
      .exec(JSON.stringify(message.blocks))![1]!
      .replaceAll('&amp;', '&')
    expect(link).toBe(`${dashboard}/#/dlq?consumerGroup=${failingGroup}&subject=User.nameUpdated`)
    await page.goto(link)
    await page.getByRole('heading', { name: 'Dead letter queue' }).waitFor()
    expect(await page.getByLabel('Consumer group', { exact: true }).inputValue()).toBe(failingGroup)
    expect(await page.getByLabel('Subject', { exact: true }).inputValue()).toBe('User.nameUpdated')
    expect(await page.getByLabel('Status', { exact: true }).inputValue()).toBe('open')
    await eventually(async () => expect(await dlqRows(page)).toEqual(Array(4).fill(failingGroup)))
    await page.screenshot({ path: join(shots, 'dlq.png'), fullPage: true })

    await page.getByLabel('Subject', { exact: true }).fill('User.registered')
    await eventually(async () => expect(await dlqRows(page)).toEqual([]))
    await page.getByText('No entries match these filters.').waitFor()
    expect(new URL(page.url()).hash).toBe(
      `#/dlq?consumerGroup=${failingGroup}&subject=User.registered`,
    )
    await page.reload()
    expect(await page.getByLabel('Subject', { exact: true }).inputValue()).toBe('User.registered')
    await page.close()
  })

  it('answers hostile addresses with the reason, never a crash', async () => {
    const page = await signIn()
    const alert = page.getByRole('alert')
    await page.goto(`${dashboard}/#/operations?search=${'x'.repeat(201)}`)
    await alert.filter({ hasText: 'search is longer than 200 characters' }).waitFor()
    await page.goto(`${dashboard}/#/operations?search=%00`)
    await alert.filter({ hasText: 'search must not contain NUL' }).waitFor()
    await page.goto(`${dashboard}/#/dlq?status=bogus&subject=${'s'.repeat(301)}`)
    await alert.filter({ hasText: 'subject is longer than 300 characters' }).waitFor()
    expect(await page.getByLabel('Status', { exact: true }).inputValue()).toBe('open')
    await page.goto(`${dashboard}/#/operations/%E0%A4%A`)
    await alert.filter({ hasText: 'no operation' }).waitFor()
    // The app still answers: the header's links work.
    await page.getByRole('link', { name: 'Operations' }).click()
    await eventually(async () => expect(await operationRows(page)).toContain(completed))
    await page.close()
  })

  it('a read-only key sees every page but no action: no redrive, discard, resolve or bulk redrive', async () => {
    const page = await signIn(readSecret)
    await page.getByText('viewer (read-only)').waitFor()
    await page.goto(`${dashboard}/#/dlq?consumerGroup=${failingGroup}`)
    await eventually(async () => expect(await dlqRows(page)).toHaveLength(4))
    expect(await actionButtons(page)).toBe(0)
    await openEntry(page, failed.redrive)
    await page.getByTestId('dlq-read-only').waitFor()
    expect(await actionButtons(page)).toBe(0)
    await page.screenshot({ path: join(shots, 'dlq-entry-read-only.png'), fullPage: true })
    for (const hash of [`#/operations/${failed.redrive}`, '#/groups', '#/operations']) {
      await page.goto(`${dashboard}/${hash}`)
      await page.locator('main h1').waitFor()
      expect(await actionButtons(page)).toBe(0)
    }
    // The API refuses it anyway.
    const entries = (await (
      await page.request.get(`${dashboard}/api/dlq?consumerGroup=${failingGroup}`)
    ).json()) as { entries: { _id: string }[] }
    const refused = await page.request.post(
      `${dashboard}/api/dlq/${encodeURIComponent(entries.entries[0]!._id)}/resolve`,
      { data: {} },
    )
    expect(refused.status()).toBe(403)
    await page.close()
  })

  it('discards an entry with a reason and resolves another with a note', async () => {
    const page = await signIn()
    await openEntry(page, failed.discard)
    await page.getByText(failure).first().waitFor()
    await page.screenshot({ path: join(shots, 'dlq-entry.png'), fullPage: true })
    await page.getByRole('button', { name: 'Discard' }).click()
    await page.getByLabel('reason or note').fill('superseded by a later rename')
    await page.getByRole('button', { name: 'Yes, discard' }).click()
    await page.getByRole('status').filter({ hasText: 'discard: the entry is discarded' }).waitFor()
    await page.getByText('Status: discarded').waitFor()
    await page.getByText('discard by ops').first().waitFor()
    expect(await page.getByText('superseded by a later rename').count()).toBeGreaterThan(0)

    await openEntry(page, failed.resolve)
    await page.getByRole('button', { name: 'Resolve' }).click()
    await page.getByLabel('reason or note').fill('names fixed by hand')
    await page.getByRole('button', { name: 'Yes, resolve' }).click()
    await page.getByRole('status').filter({ hasText: 'resolve: the entry is resolved' }).waitFor()
    await page.getByText('Status: resolved').waitFor()

    // Each operation's waterfall says the group's entry was closed, not that it still retries.
    for (const [operationId, state, says] of [
      [failed.discard, 'discarded', 'given up: its DLQ entry was discarded'],
      [failed.resolve, 'resolved', 'resolved by hand'],
    ] as const) {
      await page.goto(`${dashboard}/#/operations/${operationId}`)
      const group = page.locator(`tr[data-group="${failingGroup}"]`)
      await eventually(async () => expect(await group.getAttribute('data-state')).toBe(state))
      expect(await group.textContent()).toContain(says)
    }
    await page.close()
  })

  it('redrives an entry after the fix, and the chain completes live on its operation page', async () => {
    const page = await signIn()
    await openEntry(page, failed.redrive)
    rmSync(failSwitch) // the fix
    await page.getByRole('button', { name: 'Redrive' }).click()
    await page.getByRole('button', { name: 'Yes, redrive' }).click()
    await page.getByRole('status').filter({ hasText: 'redrive: the entry is redriven' }).waitFor()
    await page.getByText('Status: redriven').waitFor()
    await chainOf(gateway, failed.redrive, (events) =>
      expect(events.map((e) => e.subject).sort()).toEqual([
        'Blog.authorUpdated',
        'Comment.authorUpdated',
        'User.nameUpdated',
      ]),
    )
    await page.getByRole('link', { name: 'its operation' }).click()
    await page.locator('tr[data-event="Comment.authorUpdated"]').waitFor() // live, no reload
    // The failing group finished it after the redrive: five failures, then the handled run.
    const group = page.locator(`tr[data-group="${failingGroup}"]`)
    await eventually(async () => expect(await group.getAttribute('data-state')).toBe('handled'))
    expect(await group.locator('.wf-attempt[data-outcome="handled"]').count()).toBe(1)
    expect(await group.textContent()).toMatch(/✓ handled after .+ · 5 failures/)
    await page.screenshot({ path: join(shots, 'after-redrive.png'), fullPage: true })
    await page.close()
  })

  it('redrives every open entry a filter selects, after a confirmation', async () => {
    const page = await signIn()
    await page.goto(
      `${dashboard}/#/dlq?consumerGroup=${failingGroup}&eventId=${renamedEvent[failed.bulk]}`,
    )
    await eventually(async () => expect(await dlqRows(page)).toEqual([failingGroup]))
    await page.getByRole('button', { name: 'Redrive all open entries of this filter' }).click()
    await page.getByRole('button', { name: 'Yes, redrive them' }).click()
    await page.getByRole('status').filter({ hasText: 'redrove 1 of 1' }).waitFor()
    await eventually(async () => expect(await dlqRows(page)).toEqual([]))
    await chainOf(gateway, failed.bulk, (events) =>
      expect(events.map((e) => e.subject)).toContain('Comment.authorUpdated'),
    )
    await page.close()
  })

  it('signs out: the page goes back to sign-in and the session is dead', async () => {
    const page = await signIn()
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    expect((await page.request.get(`${dashboard}/api/dlq`)).status()).toBe(401)
    await page.reload()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    await page.close()
  })
})
