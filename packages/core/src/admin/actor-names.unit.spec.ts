import { describe, expect, it } from 'vitest'
import { captureLogs } from '../testing/test-service.ts'
import { actorNameCache, withActorNames, type ActorNames } from './actor-names.ts'

/** A lookup that knows `known` and records what it was asked. */
function directory(known: Record<string, string>) {
  const asked: string[][] = []
  const lookup: ActorNames = async (actors) => {
    asked.push(actors)
    return new Map(actors.flatMap((a) => (known[a] ? [[a, known[a]] as const] : [])))
  }
  return { asked, lookup }
}

describe('actor display names', () => {
  it('asks once for the distinct actors of a page, then answers from what it keeps', async () => {
    const { asked, lookup } = directory({ u1: 'Ada Lovelace', u2: 'Bob' })
    const names = actorNameCache(lookup, captureLogs().logger)
    expect(await names.namesOf(['u1', 'u2', 'u1', 'timer:x'])).toEqual(
      new Map([
        ['u1', 'Ada Lovelace'],
        ['u2', 'Bob'],
      ]),
    )
    expect(asked).toEqual([['u1', 'u2', 'timer:x']])
    // Known, and known to have no name: nothing is asked again.
    expect(await names.namesOf(['u2', 'timer:x'])).toEqual(new Map([['u2', 'Bob']]))
    expect(asked).toHaveLength(1)
  })

  it('asks again once the keep time has passed', async () => {
    const { asked, lookup } = directory({ u1: 'Ada' })
    let now = 0
    const names = actorNameCache(lookup, captureLogs().logger, { ttlMs: 1_000 }, () => now)
    await names.namesOf(['u1'])
    now = 999
    await names.namesOf(['u1'])
    now = 1_000
    await names.namesOf(['u1'])
    expect(asked).toEqual([['u1'], ['u1']])
  })

  it('asks for at most maxActors actors, and keeps at most maxCached (the oldest go first)', async () => {
    const { asked, lookup } = directory({})
    const names = actorNameCache(lookup, captureLogs().logger, { maxActors: 2, maxCached: 3 })
    await names.namesOf(['a', 'b', 'c'])
    expect(asked).toEqual([['a', 'b']])
    await names.namesOf(['c', 'd'])
    await names.namesOf(['a', 'b'])
    // a was forgotten when d came in; b, c, d were kept.
    expect(asked).toEqual([['a', 'b'], ['c', 'd'], ['a']])
  })

  it('takes only non-empty text as a name', async () => {
    const lookup = (async () =>
      new Map<string, unknown>([
        ['u1', ''],
        ['u2', 42],
        ['u3', 'Cy'],
      ])) as unknown as ActorNames
    const names = actorNameCache(lookup, captureLogs().logger)
    expect(await names.namesOf(['u1', 'u2', 'u3'])).toEqual(new Map([['u3', 'Cy']]))
  })

  it('answers without names when the lookup throws (even before it returns a promise), and logs it', async () => {
    for (const lookup of [
      async () => {
        throw new Error('users service is down')
      },
      () => {
        throw new Error('users service is down')
      },
    ] as ActorNames[]) {
      const logs = captureLogs()
      const names = actorNameCache(lookup, logs.logger)
      expect(await names.namesOf(['u1'])).toEqual(new Map())
      expect(logs.lines).toEqual([
        expect.objectContaining({
          level: 40,
          msg: 'actor names: the lookup failed; actors show as recorded',
          err: expect.objectContaining({ message: 'users service is down' }) as unknown,
        }),
      ])
    }
  })

  it('answers without names when the lookup is slow; its late answer serves the next page', async () => {
    const logs = captureLogs()
    let answer: (names: Map<string, string>) => void = () => undefined
    let calls = 0
    const lookup: ActorNames = () => {
      calls++
      return new Promise((resolve) => (answer = resolve))
    }
    const names = actorNameCache(lookup, logs.logger, { timeoutMs: 10 })
    expect(await names.namesOf(['u1'])).toEqual(new Map())
    expect(logs.messages()).toEqual([
      'actor names: the lookup is slow; this page shows actors as recorded',
    ])
    // Still in flight: not asked again.
    expect(await names.namesOf(['u1'])).toEqual(new Map())
    expect(calls).toBe(1)
    answer(new Map([['u1', 'Ada']]))
    expect(await names.namesOf(['u1'])).toEqual(new Map([['u1', 'Ada']]))
    expect(calls).toBe(1)
  })

  it('adds actorName to the rows whose actor has one, and leaves the rest as they are', async () => {
    const names = actorNameCache(directory({ u1: 'Ada' }).lookup, captureLogs().logger)
    const rows = [{ actor: 'u1' }, { actor: 'u2' }, { actor: null }, { actor: { id: 'u1' } }]
    expect(await withActorNames(rows, names)).toEqual([
      { actor: 'u1', actorName: 'Ada' },
      { actor: 'u2' },
      { actor: null },
      { actor: { id: 'u1' } },
    ])
    expect(await withActorNames(rows, undefined)).toBe(rows)
  })
})
