import { useCallback, useEffect, useState } from 'react'
import { Unauthorized } from './api.ts'

/** What every page gets: how to tell the app that the session is gone. */
export type PageProps = { onSignedOut: () => void }

/** Loads, reloads every `everyMs` (live pages), and reports a lost session to the app. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
  onSignedOut: () => void,
  everyMs?: number,
) {
  const [data, setData] = useState<T | null>(null)
  const [error, setError] = useState<string | null>(null)
  const run = useCallback(() => {
    load().then(
      (value) => {
        setData(value)
        setError(null)
      },
      (e: unknown) => (e instanceof Unauthorized ? onSignedOut() : setError((e as Error).message)),
    )
  }, deps)
  useEffect(() => {
    run()
    if (!everyMs) return
    const timer = setInterval(run, everyMs)
    return () => clearInterval(timer)
  }, [run, everyMs])
  return { data, error, reload: run }
}
