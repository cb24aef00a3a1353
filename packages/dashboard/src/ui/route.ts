import { useEffect, useMemo, useState } from 'react'

/** A hash segment decoded; a malformed one (typed by hand) as it is, rather than a crash. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** A hash as its path and its query: `#/subjects/A.b?window=6h` → ['subjects', 'A.b'], window=6h. */
export function parseHash(hash: string): { path: string[]; query: URLSearchParams } {
  const bare = hash.replace(/^#\/?/, '')
  // Segments are percent-encoded (see the hrefs below), so a literal `?` starts the query.
  const at = bare.indexOf('?')
  const path = at === -1 ? bare : bare.slice(0, at)
  return {
    path: path.split('/').map(decodeSegment),
    query: new URLSearchParams(at === -1 ? '' : bare.slice(at + 1)),
  }
}

/** A hash from its path and its query: parameters without a value are left out. */
export function hashOf(path: string[], query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams(
    Object.entries(query).filter((entry): entry is [string, string] => Boolean(entry[1])),
  ).toString()
  return `#/${path.map(encodeURIComponent).join('/')}${params ? `?${params}` : ''}`
}

/** The location's hash, kept current. */
function useHash(): string {
  const [hash, setHash] = useState(() => window.location.hash)
  useEffect(() => {
    const onChange = () => setHash(window.location.hash)
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return hash
}

/** `#/operations/<id>` → ['operations', '<id>'] (without the query, if any) */
export function useRoute(): string[] {
  const hash = useHash()
  return useMemo(() => parseHash(hash).path, [hash])
}

/** The hash's query: `#/subjects?window=6h` → window=6h. */
export function useRouteQuery(): URLSearchParams {
  const hash = useHash()
  return useMemo(() => parseHash(hash).query, [hash])
}

export const dlqEntryHref = (id: string) => `#/dlq/${encodeURIComponent(id)}`
