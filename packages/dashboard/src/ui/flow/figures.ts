// How the flow page writes its figures: durations, rates and shares.

/** A duration: `840 ms`, `2.4 s`, `3.1 min`, `1.2 h`; `—` when there is none (nothing ran). */
export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—'
  if (ms < 1_000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${trim(ms / 1_000)} s`
  if (ms < 3_600_000) return `${trim(ms / 60_000)} min`
  return `${trim(ms / 3_600_000)} h`
}

/** A rate per minute: one decimal below 10, `<0.1` for a trickle that is not nothing. */
export function perMinute(rate: number, count: number): string {
  if (count > 0 && rate < 0.1) return '<0.1/min'
  return `${rate < 10 ? trim(rate) : Math.round(rate)}/min`
}

/** A share as a percentage: `0%`, `<0.1%`, `2.5%`, `40%`. */
export function share(rate: number): string {
  if (rate <= 0) return '0%'
  if (rate < 0.001) return '<0.1%'
  return `${rate < 0.1 ? trim(rate * 100) : Math.round(rate * 100)}%`
}

/** One decimal, without a trailing `.0`. */
function trim(value: number): string {
  return String(Math.round(value * 10) / 10)
}
