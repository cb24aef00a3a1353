import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  createService,
  defineEvent,
  type EventHandler,
  type Service,
  type ServiceOptions,
} from '@event-driven/core'
import { startAdminServer, type AdminServer, type FlowGraphAnswer } from '@event-driven/core/admin'
import { dashboardHandler } from '@event-driven/dashboard'
import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import type { Browser } from 'playwright-core'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  drawnGraph,
  graphProblems,
  launchChromium,
  screenshotDir,
  screenshotWholeGraph,
  signIn,
} from './testing/browser.ts'

// The flow page at 50 subjects: a generated system of six services whose consumer groups emit
// the next subjects (a tree four subjects deep, some groups failing now and then), real events
// through NATS, the dashboard in Chromium. No node may overlap another, every label must sit in
// its box, within reach of the scroll container, and be drawn at 9 px or more.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'flow graph')
const secret = 'flow-graph-secret'

const entities = ['Order', 'Payment', 'Invoice', 'Shipment', 'Parcel']
const entities2 = ['Stock', 'Customer', 'Coupon', 'Refund', 'Review']
const verbs = ['placed', 'approved', 'settled', 'packed', 'dispatched']
const subjectCount = 50
const roots = 5
const runsPerRoot = 3
/** Subject i: `Order.placed`, … — 50 different `<Entity>.<verb>`. */
const subjectOf = (i: number) =>
  `${[...entities, ...entities2][i % 10]}.${verbs[Math.floor(i / 10)]}`
/** The tree: subjects 0–4 are published by operations; subject i ≥ 5 is emitted on its parent. */
const parentOf = (i: number) => Math.floor((i - roots) / 2)
const childrenOf = (i: number) =>
  Array.from({ length: subjectCount }, (_, c) => c).filter((c) => c >= roots && parentOf(c) === i)
const consumerServices = ['orders', 'billing', 'shipping', 'stock', 'mail']
/** The handler of subject i: `onOrderPlaced`. */
const handlerOf = (i: number) =>
  `on${subjectOf(i)
    .split('.')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('')}`
/** Every subject's own consumer group; every seventh one an audit group too. */
const groupsOf = (i: number) => [
  `${consumerServices[i % consumerServices.length]}.${handlerOf(i)}`,
  ...(i % 7 === 0 ? [`audit.${handlerOf(i)}`] : []),
]

const Step = z.object({ n: z.number() })
const definitions = Array.from({ length: subjectCount }, (_, i) =>
  defineEvent({ subject: subjectOf(i), version: 1, schema: Step }),
)

let services: Service[] = []
let admin: AdminServer
let browser: Browser

function serviceOptions(name: string): ServiceOptions {
  return {
    name,
    nats: servers.natsUrl,
    mongodb: servers.mongodbUrl,
    database: ns.database,
    stream: { name: `${ns.subjectPrefix}_EVENTS`, subjectPrefix: ns.subjectPrefix },
    retry: { baseDelayMs: 50, maxDelayMs: 200 },
    logger: pino({ level: 'silent' }),
    stopOnSignals: false,
  }
}

/** A handler that emits the subject's children; every sixth subject's first attempt fails on even n. */
function handlerFor(i: number): EventHandler<{ n: number }> {
  return async (event, ctx) => {
    if (i % 6 === 3 && event.data.n % 2 === 0 && ctx.attempt === 1) {
      throw new Error(`generated failure: ${subjectOf(i)} n=${event.data.n}, first attempt`)
    }
    for (const child of childrenOf(i)) {
      await ctx.publish(definitions[child]!, event.data)
    }
  }
}

beforeAll(async () => {
  mkdirSync(screenshotDir, { recursive: true })
  const storefront = await createService(serviceOptions('storefront'))
  const byName = new Map<string, Service>([['storefront', storefront]])
  for (const name of [...consumerServices, 'audit']) {
    byName.set(name, await createService(serviceOptions(name)))
  }
  for (let i = 0; i < subjectCount; i++) {
    for (const group of groupsOf(i)) {
      const [service, handler] = group.split('.') as [string, string]
      const definition = definitions[i]!
      if (service === 'audit') byName.get(service)!.on(definition, { handler }, async () => {})
      else byName.get(service)!.on(definition, { handler }, handlerFor(i))
    }
  }
  services = [...byName.values()]
  for (const service of services) await service.start()
  admin = await startAdminServer({
    service: storefront,
    apiKeys: [{ name: 'ops', secret }],
    ui: await dashboardHandler(),
    logger: pino({ level: 'silent' }),
  })
  for (let n = 0; n < runsPerRoot; n++) {
    for (let root = 0; root < roots; root++) {
      const op = await storefront.startOperation({ name: 'placeGenerated' })
      await op.publish(definitions[root]!, { n })
    }
  }
  browser = await launchChromium()
}, 150_000)

afterAll(async () => {
  await browser?.close()
  await admin?.close()
  for (const service of services) await service.stop()
  await ns.cleanup()
})

/**
 * The flow graph the API answers, once every generated event has been counted: a minute's counts
 * are written once it has ended, within 10 s, so this takes up to 70 s.
 */
async function countedGraph(): Promise<FlowGraphAnswer> {
  return eventually(
    async () => {
      const response = await fetch(`${admin.url}/api/flow?window=15m`, {
        headers: { authorization: `Bearer ${secret}` },
      })
      const graph = (await response.json()) as FlowGraphAnswer
      const subjects = graph.nodes.filter((n) => n.kind === 'subject')
      const groups = graph.nodes.filter((n) => n.kind === 'group')
      expect(subjects).toHaveLength(subjectCount)
      expect(groups).toHaveLength(
        Array.from({ length: subjectCount }, (_, i) => groupsOf(i)).flat().length,
      )
      const emits = graph.edges.filter((e) => e.kind === 'emits' || e.kind === 'publishes')
      expect(emits).toHaveLength(subjectCount)
      for (const edge of emits) expect(edge.count, `${edge.from} → ${edge.to}`).toBe(runsPerRoot)
      for (const edge of graph.edges.filter((e) => e.kind === 'delivers')) {
        expect(edge.count - edge.failures, `${edge.from} → ${edge.to}`).toBe(runsPerRoot)
      }
      return graph
    },
    { timeoutMs: 100_000, intervalMs: 1_000 },
  )
}

describe('the flow page at 50 subjects', () => {
  it('draws every node apart, every label inside its box and in reach, at a legible size', async () => {
    const graph = await countedGraph()
    expect(graph.edges.some((e) => e.failures > 0)).toBe(true)
    const page = await signIn(browser, admin.url, secret)
    await page.goto(`${admin.url}/#/subjects?window=15m`)
    await page.getByRole('heading', { name: 'Subjects' }).waitFor()
    await page.getByRole('button', { name: `Subject ${subjectOf(subjectCount - 1)}` }).waitFor()
    const drawn = await drawnGraph(page)
    expect(drawn.nodes).toHaveLength(graph.nodes.length)
    expect(drawn.edgeLabels).toHaveLength(graph.edges.length)
    // Every label is its node's full name: nothing cut.
    expect(drawn.nodes.map((n) => n.text).sort()).toEqual(graph.nodes.map((n) => n.label).sort())
    expect(graphProblems(drawn)).toEqual([])
    // Failing edges are marked, with their share.
    expect(
      await page.locator('.flow-scroll .flow-edge.failing text.failing').count(),
    ).toBeGreaterThan(0)
    await screenshotWholeGraph(page, join(screenshotDir, 'flow-50-subjects.png'))
    await page.close()
  }, 150_000)

  it("shows a subject's chain summary, every step four subjects deep, selected by click, keyboard or table", async () => {
    await countedGraph()
    const page = await signIn(browser, admin.url, secret)
    await page.goto(`${admin.url}/#/subjects?window=15m`)
    const root = subjectOf(0)
    await page.getByRole('button', { name: `Subject ${root}` }).click()
    expect(new URL(page.url()).hash).toBe(`#/subjects/${root}?window=15m`)
    const summary = page.getByRole('region', { name: `What follows ${root}` })
    await summary.getByText(`${runsPerRoot} events in the last 15 minutes`).waitFor()
    // What follows subject 0 in the generated tree, each step once.
    const expected: string[] = []
    const walk = (i: number) => {
      for (const group of groupsOf(i)) {
        expected.push(`→ group ${group}`)
        if (group.startsWith('audit.')) continue
        for (const child of childrenOf(i)) {
          expected.push(`→ emits ${subjectOf(child)}`)
          walk(child)
        }
      }
    }
    walk(0)
    const steps = summary.locator('.chain-step')
    await eventually(async () => expect(await steps.count()).toBe(expected.length))
    expect((await steps.allTextContents()).sort()).toEqual(expected.sort())
    const deepest = await summary
      .locator('li')
      .evaluateAll((items) => Math.max(...items.map((li) => Number(li.getAttribute('data-depth')))))
    expect(deepest).toBe(7) // subject → group → subject → group → subject → group → subject → group
    // Its downstream is highlighted in the graph; the keyboard selects too.
    expect(await page.locator('.flow-scroll .flow-edge.downstream').count()).toBe(expected.length)
    await page.getByRole('button', { name: `Subject ${subjectOf(1)}` }).focus()
    await page.keyboard.press('Enter')
    await page.getByRole('region', { name: `What follows ${subjectOf(1)}` }).waitFor()
    await page.getByRole('button', { name: `Subject ${root}` }).click()
    await summary.getByText(`${runsPerRoot} events in the last 15 minutes`).waitFor()
    await page.screenshot({ path: join(screenshotDir, 'flow-50-subjects-chain.png') })

    // A row of the table selects its subject too, and brings its node into the graph's view.
    const last = subjectOf(subjectCount - 1)
    await page
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: last, exact: true }) })
      .getByRole('cell')
      .nth(3)
      .click()
    await page.getByRole('region', { name: `What follows ${last}` }).waitFor()
    expect(new URL(page.url()).hash).toBe(`#/subjects/${last}?window=15m`)
    await page.getByRole('button', { name: `Subject ${last}`, pressed: true }).waitFor()
    await eventually(async () => {
      const [node, view] = await Promise.all([
        page.getByRole('button', { name: `Subject ${last}` }).boundingBox(),
        page.locator('.flow-scroll').boundingBox(),
      ])
      expect(node!.x).toBeGreaterThanOrEqual(view!.x)
      expect(node!.y).toBeGreaterThanOrEqual(view!.y)
      expect(node!.x + node!.width).toBeLessThanOrEqual(view!.x + view!.width)
      expect(node!.y + node!.height).toBeLessThanOrEqual(view!.y + view!.height)
    })
    await page.close()
  }, 150_000)
})
