/** A JSON payload indented; anything else (the payload that failed to parse) as it came. */
export function pretty(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2)
  } catch {
    return payload
  }
}

const second = 1_000
const minute = 60 * second
const hour = 60 * minute
const day = 24 * hour

/**
 * How long ago `at` was, as people say it: "just now", "42 s ago", "3 min ago", "5 h ago",
 * "2 d ago". A time ahead of `now` (another machine's clock) is "just now": every time the
 * dashboard shows has happened.
 */
export function relativeTime(at: Date | string | number, now: number): string {
  const ms = now - new Date(at).getTime()
  if (Number.isNaN(ms)) return '—'
  if (ms < 5 * second) return 'just now'
  if (ms < minute) return `${Math.floor(ms / second)} s ago`
  if (ms < hour) return `${Math.floor(ms / minute)} min ago`
  if (ms < day) return `${Math.floor(ms / hour)} h ago`
  return `${Math.floor(ms / day)} d ago`
}

/** The absolute time, as ISO 8601 in UTC: what the hover shows and `<time dateTime>` carries. */
export function isoTime(at: Date | string | number): string {
  const date = new Date(at)
  return Number.isNaN(date.getTime()) ? String(at) : date.toISOString()
}

/** One decimal below ten units, none above: "4.2 s", "12 s". */
const amount = (value: number) =>
  value < 10 ? String(Math.round(value * 10) / 10) : String(Math.round(value))

/**
 * A duration, in the unit that reads best: "0 ms", "850 ms", "1.2 s", "42 s", "3.5 min",
 * "2 h 5 min". Negative durations (clocks of two machines) count as 0.
 */
export function duration(ms: number): string {
  const value = Math.max(0, ms)
  if (value < second) return `${Math.round(value)} ms`
  // Rounded up to the next unit rather than printing "60 s".
  if (value < minute - 500) return `${amount(value / second)} s`
  if (value < hour - 30 * second) return `${amount(value / minute)} min`
  const totalMinutes = Math.round(value / minute)
  const hours = Math.floor(totalMinutes / 60)
  const minutes = totalMinutes % 60
  return minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`
}
