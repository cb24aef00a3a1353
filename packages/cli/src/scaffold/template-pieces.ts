// Pieces of the service template rendered for one event: what `event-driven add` puts into a
// service is cut from the same files `event-driven new` writes, so the two cannot drift apart.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { templateNames } from './files.ts'
import type { EventNames, ServiceNames } from './names.ts'
import { eventPairs, renderTemplate, replaceNames, type TemplateContext } from './template.ts'

// Beside this module in the sources and in the build (the CLI's build copies it).
const templateDir = join(import.meta.dirname, 'template')

function contextFor(names: ServiceNames, event: EventNames): TemplateContext {
  return {
    names,
    // Every list holds the one event: a block of any list is written once, for it.
    lists: { publishes: [event], consumes: [event], consumesFromOthers: [event] },
    conditions: { consumes: true, workspace: false, standalone: false },
  }
}

/**
 * One block of a template file (`src/service.ts`), from its opening line (`@each consumes`,
 * `@if consumes`) to its `@end`, rendered for `event` of the service `names`. `containing` tells
 * apart blocks that open alike. Throws when the template has no such block: the template changed
 * and `add` must change with it (add.unit.spec.ts fails first).
 */
export function templateBlock(
  file: string,
  opening: string,
  names: ServiceNames,
  event: EventNames,
  containing = '',
): string {
  const lines = readFileSync(join(templateDir, file), 'utf8').split('\n')
  for (let start = 0; start < lines.length; start++) {
    if (lines[start]!.trim() !== `// ${opening}`) continue
    const end = lines.findIndex((line, i) => i > start && line.trim() === '// @end')
    if (end === -1) break
    const block = lines.slice(start, end + 1).join('\n')
    if (block.includes(containing))
      return renderTemplate(block, contextFor(names, event), templateNames)
  }
  throw new Error(`the template's ${file} has no "// ${opening}" block containing "${containing}"`)
}

/**
 * A whole template file (`src/handlers/onInvoicePaid.ts`) rendered for `event`, as `new` writes
 * it for a consumed subject: its path (with the event's names) and its content.
 */
export function templateFile(
  file: string,
  names: ServiceNames,
  event: EventNames,
): { path: string; content: string } {
  const pairs = eventPairs(templateNames, 'consumes', event)
  const source = readFileSync(join(templateDir, file), 'utf8')
  return {
    path: replaceNames(file, pairs),
    content: renderTemplate(source, contextFor(names, event), templateNames, pairs),
  }
}
