/**
 * Runs `task` every `intervalMs` (after each run ends, so runs never overlap) until stopped.
 * `intervalMs` may be a function, asked after each run (a backoff after failures).
 * A failing run is reported to `onError` and the next one runs as planned. The returned function
 * stops it and waits for a run in progress.
 */
export function runEvery(
  intervalMs: number | (() => number),
  task: () => Promise<void>,
  onError: (error: unknown) => void,
): () => Promise<void> {
  let stopped = false
  let running: Promise<void> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined
  const delay = () => (typeof intervalMs === 'number' ? intervalMs : intervalMs())
  const tick = () => {
    running = task()
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, delay())
      })
  }
  timer = setTimeout(tick, delay())
  return async () => {
    stopped = true
    clearTimeout(timer)
    await running
  }
}
