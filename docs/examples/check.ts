// Every TypeScript block of the docs is the code of a file here, which `pnpm lint` type-checks and
// lints like any other. The line above the block names it: `<!-- example: examples/core/start.ts -->`
// (relative to the Markdown file). The block shows the file's `// #region` … `// #endregion` parts
// (each unindented, joined), or the whole file without them; what is outside is the context the
// block assumes (`declare const service: Service`).
//
//   node docs/examples/check.ts           fails, naming each block that differs or has no file
//   node docs/examples/check.ts --write   copies the files' code into the blocks
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const examplesDir = import.meta.dirname
const root = resolve(examplesDir, '..', '..')
const markdownFiles = [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(root, 'docs', name)),
]
const fence = /^(\s*)```(ts|typescript|tsx)\s*$/
const marker = /^\s*<!-- example: (\S+) -->\s*$/
const write = process.argv.includes('--write')

/** The code a block shows: the regions of the example, unindented and joined. */
function shownCode(source: string): string {
  const lines = source.replace(/\n$/, '').split('\n')
  const shown: string[] = []
  let indent: number | null = null
  let regions = 0
  for (const line of lines) {
    if (/^\s*\/\/ #region\b/.test(line)) {
      indent = line.length - line.trimStart().length
      regions++
    } else if (/^\s*\/\/ #endregion\b/.test(line)) {
      indent = null
    } else if (indent !== null) {
      shown.push(line.slice(Math.min(indent, line.length - line.trimStart().length)))
    }
  }
  return regions > 0 ? shown.join('\n') : source.replace(/\n$/, '')
}

const problems: string[] = []
const used = new Set<string>()
for (const file of markdownFiles) {
  const lines = readFileSync(file, 'utf8').split('\n')
  const name = relative(root, file)
  let changed = false
  for (let i = 0; i < lines.length; i++) {
    const open = fence.exec(lines[i]!)
    if (!open) continue
    const indent = open[1]!
    const end = lines.findIndex((line, j) => j > i && line.trimEnd() === `${indent}\`\`\``)
    if (end < 0) {
      problems.push(`${name}:${i + 1}: the code block is never closed`)
      break
    }
    let above = i - 1
    while (above >= 0 && lines[above]!.trim() === '') above--
    const example = above >= 0 ? marker.exec(lines[above]!)?.[1] : undefined
    if (!example) {
      problems.push(
        `${name}:${i + 1}: a TypeScript block without "<!-- example: … -->" above it: put its code in docs/examples/ (it must compile) and name the file there`,
      )
      i = end
      continue
    }
    const examplePath = resolve(dirname(file), example)
    used.add(examplePath)
    let code: string
    try {
      code = shownCode(readFileSync(examplePath, 'utf8'))
    } catch {
      problems.push(`${name}:${above + 1}: ${example} does not exist`)
      i = end
      continue
    }
    const block = lines.slice(i + 1, end).map((line) => line.slice(indent.length))
    if (block.join('\n') !== code) {
      if (write) {
        const indented = code.split('\n').map((line) => (line ? indent + line : line))
        lines.splice(i + 1, end - i - 1, ...indented)
        changed = true
        i += indented.length + 1
        continue
      }
      problems.push(
        `${name}:${i + 1}: the block differs from ${example}: edit the example (it is what compiles), then run node docs/examples/check.ts --write`,
      )
    }
    i = end
  }
  if (changed) writeFileSync(file, lines.join('\n'))
}

/** The example files: every .ts here but this one and node_modules. */
function exampleFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : exampleFiles(path)
    return entry.name.endsWith('.ts') && path !== join(examplesDir, 'check.ts') ? [path] : []
  })
}
for (const path of exampleFiles(examplesDir)) {
  if (!used.has(path)) problems.push(`${relative(root, path)}: no doc shows it; remove it`)
}

if (problems.length > 0) {
  process.stderr.write(`docs: code blocks and their examples\n${problems.join('\n')}\n`)
  process.exit(1)
}
