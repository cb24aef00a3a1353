/** A number for the printed tables: thousands separated, `digits` after the point. */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

/** Prints a table of padded columns to stdout, under `title` when given. */
export function printTable(header: string[], rows: string[][], title?: string): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')
  console.log(
    `\n${title ? `${title}\n` : ''}${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`,
  )
}
