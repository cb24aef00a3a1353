import { useQuery, type QueryKey, type UseQueryOptions } from '@tanstack/react-query'
import { useEffect } from 'react'
import { Unauthorized } from './api.ts'

/** What every page gets: how to tell the app that the session is gone. */
export type PageProps = { onSignedOut: () => void }

/**
 * A page's read (one of `queries` in queries.ts): its data, its error as text, and a lost session
 * reported to the app. The query's key decides what is shown, so an older search's answer
 * never replaces a newer one's; a superseded or unmounted query aborts its request.
 */
export function usePageQuery<T, K extends QueryKey>(
  options: UseQueryOptions<T, Error, T, K>,
  onSignedOut: () => void,
) {
  const { data, error } = useQuery(options)
  const signedOut = error instanceof Unauthorized
  useEffect(() => {
    if (signedOut) onSignedOut()
  }, [signedOut, onSignedOut])
  return { data: data ?? null, error: error && !signedOut ? error.message : null }
}
