import { describe, expect, it } from 'vitest'
import { groupCommit } from './group-commit.ts'

describe('group commit', () => {
  it('hands concurrent items to one flush and gives each caller its own result', async () => {
    const batches: number[][] = []
    const writer = groupCommit<number, number>(async (items) => {
      batches.push(items)
      return items.map((n) => n * 10)
    })
    const results = await Promise.all([1, 2, 3].map((n) => writer.add(n)))
    expect(results).toEqual([10, 20, 30])
    expect(batches).toEqual([[1, 2, 3]])
  })

  it('splits at maxBatch and gathers items that arrive during a flush into the next one', async () => {
    const batches: number[][] = []
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const writer = groupCommit<number, undefined>(
      async (items) => {
        batches.push(items)
        await gate
        return items.map(() => undefined)
      },
      { maxBatch: 2, maxInFlight: 1 },
    )
    const first = [1, 2, 3].map((n) => writer.add(n))
    await new Promise((resolve) => setImmediate(resolve))
    const later = [4, 5].map((n) => writer.add(n))
    release()
    await Promise.all([...first, ...later])
    expect(batches).toEqual([[1, 2], [3, 4], [5]])
  })

  it('rejects only the items whose result is an Error, and all when the flush throws', async () => {
    const partial = groupCommit<number, string>(async (items) =>
      items.map((n) => (n === 2 ? new Error('two failed') : `ok ${n}`)),
    )
    const outcomes = await Promise.allSettled([1, 2, 3].map((n) => partial.add(n)))
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])

    const broken = groupCommit<number, string>(async () => {
      throw new Error('server gone')
    })
    await expect(Promise.all([broken.add(1), broken.add(2)])).rejects.toThrow('server gone')
  })

  it('drain resolves once everything added is flushed', async () => {
    const flushed: number[] = []
    const writer = groupCommit<number, undefined>(async (items) => {
      flushed.push(...items)
      return items.map(() => undefined)
    })
    void writer.add(1)
    void writer.add(2)
    await writer.drain()
    expect(flushed).toEqual([1, 2])
  })
})
