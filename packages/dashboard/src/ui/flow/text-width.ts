// How wide a label is drawn: measured by the browser where it can, estimated where it cannot.

/** The width in px of `text` set in the dashboard's font at `fontPx`. */
export type MeasureText = (text: string, fontPx: number) => number

/** The font the graph's labels are drawn in (flow.css sets the same). */
export const graphFontFamily = 'system-ui, sans-serif'

// Per-character widths in em, on the wide side of common sans-serif fonts (DejaVu Sans is among
// the widest): an estimate must never be narrower than the drawn text.
const narrow = new Set([...`iljtfr.,:;|!'" ()[]`])
const wide = new Set([...'mwMW@%'])

/** An upper bound of the drawn width, without a browser (unit tests, a canvas-less page). */
export const estimateTextWidth: MeasureText = (text, fontPx) => {
  let em = 0
  for (const ch of text) {
    if (narrow.has(ch)) em += 0.42
    else if (wide.has(ch)) em += 1.0
    else if (/[A-Z0-9_#&]/.test(ch)) em += 0.76
    else em += 0.64
  }
  return em * fontPx
}

/**
 * The browser's own measure (a canvas set in the graph's font), cached per text and size;
 * the estimate where there is no canvas.
 */
export function browserTextWidth(): MeasureText {
  const context =
    typeof document === 'undefined' ? null : document.createElement('canvas').getContext('2d')
  if (!context) return estimateTextWidth
  const cache = new Map<string, number>()
  return (text, fontPx) => {
    const key = `${fontPx}\u0000${text}`
    let width = cache.get(key)
    if (width === undefined) {
      context.font = `${fontPx}px ${graphFontFamily}`
      width = context.measureText(text).width
      cache.set(key, width)
    }
    return width
  }
}
