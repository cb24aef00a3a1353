import { useEffect, useState } from 'react'

/** A hash segment decoded; a malformed one (typed by hand) as it is, rather than a crash. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** `#/operations/<id>` → ['operations', '<id>'] */
export function useRoute(): string[] {
  const read = () => window.location.hash.replace(/^#\/?/, '').split('/').map(decodeSegment)
  const [route, setRoute] = useState(read)
  useEffect(() => {
    const onChange = () => setRoute(read())
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return route
}

export const dlqEntryHref = (id: string) => `#/dlq/${encodeURIComponent(id)}`
