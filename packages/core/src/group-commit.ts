/**
 * Group commit: concurrent callers hand in items; one `flush` call writes them together, so the
 * round trips per item fall as load rises. A flush starts on the next tick after the first item,
 * or at once when `maxBatch` items wait; while `maxInFlight` flushes run, items gather for the next.
 */
export interface GroupCommit<Item, Result> {
  add(item: Item): Promise<Result>
  /** Resolves when every item added so far is flushed. */
  drain(): Promise<void>
}

/** A flush returns one result per item, in order; an Error rejects that item's caller only. */
export type Flush<Item, Result> = (items: Item[]) => Promise<(Result | Error)[]>

export function groupCommit<Item, Result>(
  flush: Flush<Item, Result>,
  { maxBatch = 500, maxInFlight = 2 }: { maxBatch?: number; maxInFlight?: number } = {},
): GroupCommit<Item, Result> {
  type Waiting = { item: Item; resolve: (r: Result) => void; reject: (e: unknown) => void }
  let waiting: Waiting[] = []
  let inFlight = 0
  let scheduled = false
  const idle: (() => void)[] = []

  const run = async (batch: Waiting[]) => {
    try {
      const results = await flush(batch.map((w) => w.item))
      batch.forEach((w, i) => {
        const result = results[i]
        if (result instanceof Error) w.reject(result)
        else w.resolve(result as Result)
      })
    } catch (error) {
      for (const w of batch) w.reject(error)
    }
  }

  const pump = () => {
    scheduled = false
    while (waiting.length > 0 && inFlight < maxInFlight) {
      const batch = waiting.slice(0, maxBatch)
      waiting = waiting.slice(batch.length)
      inFlight += 1
      void run(batch).finally(() => {
        inFlight -= 1
        if (waiting.length > 0) pump()
        else if (inFlight === 0) idle.splice(0).forEach((done) => done())
      })
    }
  }

  return {
    add(item) {
      return new Promise<Result>((resolve, reject) => {
        waiting.push({ item, resolve, reject })
        if (waiting.length >= maxBatch) pump()
        else if (!scheduled) {
          scheduled = true
          setImmediate(pump)
        }
      })
    },
    drain() {
      if (waiting.length === 0 && inFlight === 0) return Promise.resolve()
      return new Promise((resolve) => idle.push(resolve))
    },
  }
}

/**
 * For writes of commands a caller waits on (operation records, change claims): groups form under
 * load, and up to 8 of them run at once, so a caller is not held behind two slow flushes.
 */
export const groupWrites = { maxInFlight: 8 } as const
