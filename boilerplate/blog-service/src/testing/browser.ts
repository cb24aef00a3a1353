// Chromium for the dashboard's browser tests, signing in, and what the flow page's tests measure
// on the drawn graph.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'

/** Where the dashboard's screenshots go (kept by CI). */
export const screenshotDir = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'test-output',
  'dashboard',
)

/** Debian's Chromium (or CHROMIUM_BIN), headless, as infra.md says it runs here. */
export async function launchChromium(): Promise<Browser> {
  const bin = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'
  if (!existsSync(bin)) {
    throw new Error(`no Chromium at ${bin}: apt-get install -y chromium (or set CHROMIUM_BIN)`)
  }
  return chromium.launch({
    executablePath: bin,
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
}

/** A new page signed in to the dashboard with an API key. */
export async function signIn(
  browser: Browser,
  dashboard: string,
  secret: string,
  viewport = { width: 1280, height: 900 },
): Promise<Page> {
  const page = await browser.newPage({ viewport })
  await page.goto(dashboard)
  await page.getByLabel('Admin API key').fill(secret)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Operations' }).waitFor()
  return page
}

interface Rect {
  left: number
  top: number
  right: number
  bottom: number
}

/** The drawn graph as the browser laid it out: every box in viewport pixels. */
export interface DrawnGraph {
  /** The scroll container's whole scrollable area (not only its visible part). */
  scrollArea: Rect
  nodes: { id: string; box: Rect; label: Rect; text: string; fontPx: number }[]
  edgeLabels: { edge: string; box: Rect; lines: Rect[]; fontPx: number[] }[]
}

/** Reads the boxes of every node, node label and edge label of the flow graph on the page. */
export function drawnGraph(page: Page): Promise<DrawnGraph> {
  return page.evaluate(() => {
    const rect = (r: DOMRect) => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom })
    // The size a text is drawn at: its font size times the SVG's scale on screen.
    const drawnPx = (text: SVGTextElement) =>
      parseFloat(getComputedStyle(text).fontSize) * (text.getScreenCTM()?.a ?? 1)
    const scroller = document.querySelector<HTMLElement>('.flow-scroll')!
    const outer = scroller.getBoundingClientRect()
    const left = outer.left + scroller.clientLeft - scroller.scrollLeft
    const top = outer.top + scroller.clientTop - scroller.scrollTop
    return {
      scrollArea: {
        left,
        top,
        right: left + scroller.scrollWidth,
        bottom: top + scroller.scrollHeight,
      },
      nodes: [
        ...document.querySelectorAll<SVGGElement>('.flow-scroll g.flow-node[data-node-id]'),
      ].map((g) => {
        const text = g.querySelector('text')!
        return {
          id: g.dataset.nodeId!,
          box: rect(g.querySelector('rect')!.getBoundingClientRect()),
          label: rect(text.getBoundingClientRect()),
          text: text.textContent ?? '',
          fontPx: drawnPx(text),
        }
      }),
      edgeLabels: [...document.querySelectorAll<SVGGElement>('.flow-scroll g.flow-edge')].map(
        (g) => {
          const texts = [...g.querySelectorAll('text')]
          return {
            edge: g.dataset.edge!,
            box: rect(g.querySelector('rect.flow-edge-label')!.getBoundingClientRect()),
            lines: texts.map((t) => rect(t.getBoundingClientRect())),
            fontPx: texts.map(drawnPx),
          }
        },
      ),
    }
  })
}

const inside = (inner: Rect, outer: Rect, slack = 0.5) =>
  inner.left >= outer.left - slack &&
  inner.top >= outer.top - slack &&
  inner.right <= outer.right + slack &&
  inner.bottom <= outer.bottom + slack

const overlap = (a: Rect, b: Rect, slack = 0.5) =>
  a.left < b.right - slack &&
  b.left < a.right - slack &&
  a.top < b.bottom - slack &&
  b.top < a.bottom - slack

/**
 * What is wrong with the drawn graph, as sentences (none when it is right): two nodes or edge
 * labels overlapping, a label outside its box or outside the scrollable area, a text drawn
 * smaller than `minFontPx`.
 */
export function graphProblems(graph: DrawnGraph, minFontPx = 9): string[] {
  const problems: string[] = []
  const { nodes, edgeLabels, scrollArea } = graph
  nodes.forEach((node, i) => {
    if (!inside(node.label, node.box)) problems.push(`${node.id}: its label leaves its box`)
    if (!inside(node.label, scrollArea)) problems.push(`${node.id}: its label is out of reach`)
    if (node.fontPx < minFontPx) problems.push(`${node.id}: drawn at ${node.fontPx} px`)
    for (const other of nodes.slice(i + 1)) {
      if (overlap(node.box, other.box)) problems.push(`${node.id} overlaps ${other.id}`)
    }
    for (const label of edgeLabels) {
      if (overlap(node.box, label.box)) problems.push(`${node.id} lies under ${label.edge}'s label`)
    }
  })
  edgeLabels.forEach((label, i) => {
    for (const line of label.lines) {
      if (!inside(line, label.box)) problems.push(`${label.edge}: a label line leaves its box`)
      if (!inside(line, scrollArea)) problems.push(`${label.edge}: its label is out of reach`)
    }
    for (const px of label.fontPx) {
      if (px < minFontPx) problems.push(`${label.edge}: label drawn at ${px} px`)
    }
    for (const other of edgeLabels.slice(i + 1)) {
      if (overlap(label.box, other.box))
        problems.push(`${label.edge}'s label overlaps ${other.edge}'s`)
    }
  })
  return problems
}

/** A screenshot of the whole graph: the scroll container's height limit lifted, the window widened. */
export async function screenshotWholeGraph(page: Page, path: string): Promise<void> {
  const size = await page.evaluate(() => {
    const svg = document.querySelector('svg.flow-graph')!.getAttribute('viewBox')!.split(' ')
    return { width: Number(svg[2]), height: Number(svg[3]) }
  })
  const style = await page.addStyleTag({
    content: '.flow-scroll { max-height: none !important }',
  })
  const viewport = page.viewportSize()
  // Room for the graph at scale 1 beside the side panel.
  await page.setViewportSize({ width: Math.max(1280, size.width + 420), height: 900 })
  await page.waitForFunction(
    (width) => document.querySelector('svg.flow-graph')?.getAttribute('width') === String(width),
    size.width,
  )
  await page.screenshot({ path, fullPage: true })
  await style.evaluate((element) => element.parentNode?.removeChild(element))
  if (viewport) await page.setViewportSize(viewport)
}
