import type { EventNames, ServiceNames } from './names.ts'

/**
 * The template language, kept this small on purpose:
 *
 * - Names: every name of the template service (`templateNames` in files.ts) is replaced by the
 *   same name of the new service, field by field: `order-history` → `name`, `orderHistory` →
 *   `camel`, `OrderArchived` → `constant`, `recordOrderArchived` → `mutation`, and so on.
 * - Blocks: a line `// @each <list>` (or `# @each`, `<!-- @each -->`) up to `// @end` is written
 *   once per event of the list, with that event's names; `// @if <condition>` up to `// @end`
 *   only when the condition holds (`!` negates). Blocks do not nest.
 *
 * Replacement is one pass over each piece of text, so a new name that happens to contain a
 * template name is never rewritten twice.
 */
export type EventList = 'publishes' | 'consumes' | 'consumesFromOthers'
export type Condition = 'consumes' | 'workspace' | 'standalone'

export interface TemplateContext {
  names: ServiceNames
  lists: Record<EventList, EventNames[]>
  conditions: Record<Condition, boolean>
}

const directive = /^\s*(?:\/\/|#|<!--)\s*@(each|if|end)\b\s*(!?)([A-Za-z]*)\s*(?:-->)?\s*$/

/** The pairs `template name → new name` of the string fields of two sets of names. */
export function namePairs<T extends object>(template: T, actual: T): [string, string][] {
  return Object.entries(template)
    .filter(([, value]) => typeof value === 'string')
    .map(([key, value]) => [value as string, actual[key as keyof T] as string])
}

/** Every template name replaced in one pass, longest first (`recordOrderArchived`, then `OrderArchived`). */
export function replaceNames(text: string, pairs: [string, string][]): string {
  const sorted = pairs.filter(([name]) => name).sort(([a], [b]) => b.length - a.length)
  let out = ''
  for (let i = 0; i < text.length;) {
    const pair = sorted.find(([name]) => text.startsWith(name, i))
    out += pair ? pair[1] : text[i]
    i += pair ? pair[0].length : 1
  }
  return out
}

/** The pairs that rewrite the template's event of `list` into `event`. */
export function eventPairs(
  template: ServiceNames,
  list: EventList,
  event: EventNames,
): [string, string][] {
  return namePairs(list === 'publishes' ? template.publishes[0]! : template.consumes[0]!, event)
}

/**
 * Renders one template file. `template` holds the template service's own names: one event it
 * publishes, one it consumes from another service. A file written once per event gets that
 * event's pairs as `filePairs`.
 */
export function renderTemplate(
  source: string,
  context: TemplateContext,
  template: ServiceNames,
  filePairs: [string, string][] = [],
): string {
  const servicePairs = [...namePairs(template, context.names), ...filePairs]
  const out: string[] = []
  const lines = source.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = directive.exec(lines[i]!)
    if (!open) {
      out.push(replaceNames(lines[i]!, servicePairs))
      continue
    }
    const [, kind, negated, argument] = open
    if (kind === 'end') throw new Error(`line ${i + 1}: @end without @each or @if`)
    const body: string[] = []
    for (i++; ; i++) {
      if (i >= lines.length) throw new Error(`@${kind} ${argument} is never ended with @end`)
      const inner = directive.exec(lines[i]!)
      if (inner?.[1] === 'end') break
      if (inner) throw new Error(`line ${i + 1}: blocks do not nest`)
      body.push(lines[i]!)
    }
    const text = body.join('\n')
    if (kind === 'if') {
      const holds = context.conditions[argument as Condition]
      if (holds === undefined) throw new Error(`@if ${argument}: no such condition`)
      if (holds !== (negated === '!')) out.push(replaceNames(text, servicePairs))
    } else {
      const list = context.lists[argument as EventList]
      if (!list) throw new Error(`@each ${argument}: no such list`)
      for (const event of list) {
        const pairs = eventPairs(template, argument as EventList, event)
        out.push(replaceNames(text, [...servicePairs, ...pairs]))
      }
    }
  }
  return out.join('\n')
}
