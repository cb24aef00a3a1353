// A subject's chain summary in reading order: each step under the step it follows.
import type { SubjectChainAnswer } from './types.ts'

export type ChainStep = SubjectChainAnswer['steps'][number]

/** A step with the words the summary shows for it. */
export interface ChainRow extends ChainStep {
  /** `→ group blogs.updateAuthorName`, `→ emits Blog.authorUpdated`. */
  text: string
}

/** What a node id names, without its kind: `group:blogs.x` → `blogs.x`. */
export const nodeName = (id: string) => id.replace(/^(service|subject|group):/, '')

/**
 * The API's breadth-first steps as a tree, depth first: each consumer group right under the
 * subject it consumes, each emitted subject under its group. A step reached from two parents
 * shows once, under the first.
 */
export function chainRows(subject: string, steps: ChainStep[]): ChainRow[] {
  const rows: ChainRow[] = []
  const shown = new Set<ChainStep>()
  const visit = (from: string, depth: number) => {
    for (const step of steps) {
      if (step.from !== from || step.depth !== depth || shown.has(step)) continue
      shown.add(step)
      const name = nodeName(step.to)
      rows.push({ ...step, text: step.kind === 'delivers' ? `→ group ${name}` : `→ emits ${name}` })
      visit(step.to, depth + 1)
    }
  }
  visit(`subject:${subject}`, 1)
  // Anything the tree did not reach (an answer out of order) still shows, in the API's order.
  for (const step of steps) {
    if (shown.has(step)) continue
    rows.push({ ...step, text: `${nodeName(step.from)} → ${nodeName(step.to)}` })
  }
  return rows
}
