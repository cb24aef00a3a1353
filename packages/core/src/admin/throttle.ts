/**
 * Counts failures per key (a client address, a key name) in fixed windows: after `limit`
 * failures a key is blocked until its window ends. In process memory, so per instance; bounded:
 * past `maxTracked` keys the oldest window is forgotten first, so a flood of new addresses costs
 * memory up to the bound, never more (and buys the flooder only what its addresses could guess
 * anyway).
 */
export interface Throttle {
  /** Milliseconds until `key` may try again; 0 when it is not blocked. */
  blockedFor(key: string): number
  /** Counts one failure of `key`. */
  fail(key: string): void
  /** How many keys are tracked now. */
  readonly size: number
}

export interface ThrottleOptions {
  /** Failures in one window that block a key. */
  limit: number
  /** How long a window lasts, from a key's first failure in it. */
  windowMs: number
  /** Most keys tracked at once. */
  maxTracked: number
  /** The clock (tests). */
  now?: () => number
}

interface Window {
  failures: number
  endsAt: number
}

export function createThrottle(options: ThrottleOptions): Throttle {
  const { limit, windowMs, maxTracked } = options
  const now = options.now ?? Date.now
  // Windows all last windowMs and a key is re-inserted when its next one starts, so insertion
  // order is the order they end in: the first entries are the ones to drop.
  const windows = new Map<string, Window>()

  const current = (key: string, at: number): Window | undefined => {
    const window = windows.get(key)
    if (window && window.endsAt <= at) windows.delete(key)
    return window && window.endsAt > at ? window : undefined
  }

  const makeRoom = (at: number) => {
    for (const [key, window] of windows) {
      if (windows.size < maxTracked || window.endsAt > at) break
      windows.delete(key)
    }
    while (windows.size >= maxTracked) {
      const oldest = windows.keys().next().value as string
      windows.delete(oldest)
    }
  }

  return {
    blockedFor(key) {
      const at = now()
      const window = current(key, at)
      return window && window.failures >= limit ? window.endsAt - at : 0
    },
    fail(key) {
      const at = now()
      const window = current(key, at)
      if (window) {
        window.failures += 1
        return
      }
      makeRoom(at)
      windows.set(key, { failures: 1, endsAt: at + windowMs })
    },
    get size() {
      return windows.size
    },
  }
}
