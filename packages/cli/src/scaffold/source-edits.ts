// Text edits of a service's modules (events.ts, service.ts) for `event-driven add`. Each one reads
// what the template writes and leaves the layout to Prettier, which runs on the result.
import { ScaffoldError } from './names.ts'

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

// A static import: `import ... from '<module>'`, over as many lines as it takes.
const importStatement = /^import\s[^;]*?\bfrom\s*(['"])([^'"\n]*)\1;?[ \t]*$/gm

/** Whether the module defines an event with this subject (`subject: 'Invoice.paid'`). */
export function definesSubject(source: string, subject: string): boolean {
  return new RegExp(`\\bsubject:\\s*(['"\`])${escaped(subject)}\\1`).test(source)
}

/** Whether the module exports a binding of this name (a const, type, function, …). */
export function exportsName(source: string, name: string): boolean {
  return new RegExp(
    `^export\\s+(?:declare\\s+)?(?:const|let|var|type|interface|function|async function|class|enum)\\s+${escaped(name)}\\b`,
    'm',
  ).test(source)
}

/** The module with `block` added at its end, a blank line apart. */
export function appendBlock(source: string, block: string): string {
  return `${source.trimEnd()}\n\n${block.trim()}\n`
}

/**
 * The module with `line` (an import) after its last import from a module starting with
 * `besidePrefix` when it has one, else after its last import; unchanged if it has the line.
 */
export function addImportLine(source: string, line: string, besidePrefix?: string): string {
  if (source.split('\n').some((existing) => existing.trim() === line.trim())) return source
  const imports = [...source.matchAll(importStatement)]
  const beside = besidePrefix ? imports.filter((m) => m[2]!.startsWith(besidePrefix)) : []
  const after = beside.at(-1) ?? imports.at(-1)
  if (!after) return `${line.trim()}\n${source}`
  const end = after.index + after[0].length
  return `${source.slice(0, end)}\n${line.trim()}${source.slice(end)}`
}

/**
 * The module with `name` among the names it imports from `module` (`import { A, B } from
 * './events.ts'`), or a new import of it when it has none.
 */
export function addImportedName(source: string, name: string, module: string): string {
  const statement = new RegExp(
    `^import\\s*\\{([^}]*)\\}\\s*from\\s*(['"])${escaped(module)}\\2`,
    'm',
  )
  const found = statement.exec(source)
  if (!found) return addImportLine(source, `import { ${name} } from '${module}'`)
  const list = found[1]!
  if (new RegExp(`(?:^|[\\s,])${escaped(name)}(?:$|[\\s,])`).test(list)) return source
  // A comment in the list could swallow a name written after it: put the new one first then.
  const names = list.split(',').map((n) => n.trim())
  const nextList = /\/\/|\/\*/.test(list)
    ? `\n  ${name},${list}`
    : ` ${[...names.filter(Boolean), name].join(', ')} `
  const start = found.index + found[0].indexOf('{') + 1
  return source.slice(0, start) + nextList + source.slice(start + list.length)
}

/**
 * service.ts with `block` written before `await runtime.start(`, after the blank lines that set
 * it apart: where the template registers its handlers, after the last one.
 */
export function insertBeforeRuntimeStart(source: string, block: string, file: string): string {
  const lines = source.split('\n')
  const start = lines.findIndex((line) => /^\s*await runtime\.start\(/.test(line))
  if (start === -1) {
    throw new ScaffoldError(
      `${file} has no "await runtime.start(" line, where the template registers handlers before it: add the handler there yourself`,
    )
  }
  let at = start
  while (at > 0 && lines[at - 1]!.trim() === '') at--
  lines.splice(at, 0, ...block.replace(/\n+$/, '').split('\n'))
  return lines.join('\n')
}
