import { createContext, useContext, useEffect, useState, type ReactNode } from 'react'

/** How often relative times ("3 min ago") are brought up to date. */
export const nowTickMs = 15_000

const NowContext = createContext<number>(Date.now())

/**
 * The clock every relative time reads: one timer for the whole app, ticking every 15 s, so a
 * page of a hundred times re-renders once per tick rather than keeping a timer per row.
 */
export function NowProvider({ children }: { children: ReactNode }) {
  const [now, setNow] = useState(Date.now)
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), nowTickMs)
    return () => clearInterval(timer)
  }, [])
  return <NowContext.Provider value={now}>{children}</NowContext.Provider>
}

/**
 * The app's clock, or the newer of it and the render's own time: data fetched since the last
 * tick is never shown as newer than "just now".
 */
export function useNow(): number {
  return Math.max(useContext(NowContext), Date.now())
}
