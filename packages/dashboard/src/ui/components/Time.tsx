import { isoTime, relativeTime } from '../format.ts'
import { useNow } from './Now.tsx'

/**
 * A time as people read it ("3 min ago"), with the absolute time (ISO 8601, UTC) on hover and in
 * `dateTime`. Null (not yet, or never) is a dash.
 */
export function Time({ at }: { at: string | null | undefined }) {
  const now = useNow()
  if (!at) return <span className="muted">—</span>
  const iso = isoTime(at)
  return (
    <time dateTime={iso} title={iso}>
      {relativeTime(at, now)}
    </time>
  )
}
