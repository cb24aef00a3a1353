import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Chain, ChainEvent } from '../api.ts'
import { ticksFor, waterfallLayout, type GroupRow } from './layout.ts'

const t0 = Date.parse('2026-12-01T12:00:00.000Z')
/** An ISO time `ms` after the operation started. */
const at = (ms: number) => new Date(t0 + ms).toISOString()

function event(id: string, parentId: string, fields: Partial<ChainEvent> = {}): ChainEvent {
  return {
    id,
    subject: `Thing.${id}`,
    version: 1,
    parentId,
    publishedBy: null,
    createdAt: at(0),
    publishedAt: at(10),
    data: {},
    handledBy: [],
    failures: [],
    attempts: [],
    ...fields,
  }
}

function chain(events: ChainEvent[]): Chain {
  return {
    id: 'op',
    name: 'userUpdateNames',
    status: 'completed',
    actor: 'u1',
    startedAt: at(0),
    events,
  }
}

/** User renamed → blogs handles it at once; comments fails twice (1 s apart), then handles it. */
const renamed = chain([
  event('renamed', 'op', {
    createdAt: at(100),
    publishedAt: at(200),
    handledBy: ['blogs.rename', 'comments.rename'],
    failures: [
      {
        consumerGroup: 'comments.rename',
        failures: 2,
        lastError: 'down',
        inDeadLetterQueue: false,
        deadLetterStatus: null,
      },
    ],
    attempts: [
      {
        consumerGroup: 'comments.rename',
        attempt: 1,
        startedAt: at(210),
        endedAt: at(260),
        outcome: 'failed',
        error: 'timeout',
      },
      {
        consumerGroup: 'blogs.rename',
        attempt: 1,
        startedAt: at(220),
        endedAt: at(300),
        outcome: 'handled',
      },
      {
        consumerGroup: 'comments.rename',
        attempt: 2,
        startedAt: at(1_260),
        endedAt: at(1_300),
        outcome: 'failed',
        error: 'down',
      },
      {
        consumerGroup: 'comments.rename',
        attempt: 3,
        startedAt: at(2_300),
        endedAt: at(2_400),
        outcome: 'handled',
      },
    ],
  }),
  event('blogTold', 'renamed', {
    createdAt: at(290),
    publishedAt: at(310),
    publishedBy: 'blogs.rename',
  }),
])

describe('the waterfall layout', () => {
  it('runs the axis from the operation start to the last time the chain knows', () => {
    const layout = waterfallLayout(renamed)
    expect(layout.start).toBe(t0)
    expect(layout.end).toBe(t0 + 2_400)
  })

  it('lists each event, then its consumer groups alphabetically, then its children, indented', () => {
    const rows = waterfallLayout(renamed).rows
    expect(rows.map((r) => [r.key, r.depth])).toEqual([
      ['event:renamed', 0],
      ['group:renamed/blogs.rename', 0],
      ['group:renamed/comments.rename', 0],
      ['event:blogTold', 1],
    ])
  })

  it('draws an event from its creation to its publish, with the time it took', () => {
    const [row] = waterfallLayout(renamed).rows
    expect(row).toMatchObject({
      kind: 'event',
      publish: { from: 100 / 2_400, to: 200 / 2_400, ms: 100 },
    })
  })

  it('draws each attempt from its start to its end, failed ones with their error, and the retry waits between them', () => {
    const comments = waterfallLayout(renamed).rows[2] as GroupRow
    expect(comments.attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        outcome: 'failed',
        error: 'timeout',
        from: 210 / 2_400,
        to: 260 / 2_400,
        ms: 50,
        point: false,
      }),
      expect.objectContaining({ attempt: 2, outcome: 'failed', error: 'down', ms: 40 }),
      expect.objectContaining({ attempt: 3, outcome: 'handled', ms: 100, to: 1 }),
    ])
    expect(comments.attempts[2]).not.toHaveProperty('error')
    expect(comments.waits).toEqual([
      { from: 260 / 2_400, to: 1_260 / 2_400, ms: 1_000 },
      { from: 1_300 / 2_400, to: 2_300 / 2_400, ms: 1_000 },
    ])
    expect(comments).toMatchObject({
      state: 'handled',
      failures: 2,
      lastError: 'down',
      finishedAfterMs: 2_300,
    })
  })

  it('says which groups are in the DLQ, closed there, or failed without finishing', () => {
    const failure = (
      consumerGroup: string,
      deadLetterStatus: 'open' | 'redriven' | 'discarded' | 'resolved' | null,
    ) => ({
      consumerGroup,
      failures: 5,
      lastError: 'boom',
      inDeadLetterQueue: deadLetterStatus === 'open',
      deadLetterStatus,
    })
    const stuck = chain([
      event('e', 'op', {
        failures: [
          failure('a.dead', 'open'),
          failure('b.retrying', null),
          failure('c.redriven', 'redriven'),
          failure('d.discarded', 'discarded'),
          failure('e.resolved', 'resolved'),
        ],
      }),
    ])
    const rows = waterfallLayout(stuck).rows as GroupRow[]
    expect(rows.slice(1).map((r) => [r.consumerGroup, r.state, r.finishedAfterMs])).toEqual([
      ['a.dead', 'dlq', null],
      ['b.retrying', 'retrying', null],
      ['c.redriven', 'retrying', null],
      ['d.discarded', 'discarded', null],
      ['e.resolved', 'resolved', null],
    ])
  })

  it('draws an attempt without a recorded start as a point at its end', () => {
    const old = chain([
      event('e', 'op', {
        handledBy: ['g.h'],
        attempts: [
          {
            consumerGroup: 'g.h',
            attempt: null,
            startedAt: null,
            endedAt: at(50),
            outcome: 'handled',
          },
        ],
      }),
    ])
    const group = waterfallLayout(old).rows[1] as GroupRow
    expect(group.attempts).toEqual([
      expect.objectContaining({ point: true, from: 1, to: 1, ms: null }),
    ])
    expect(group.waits).toEqual([])
  })

  it('shows an event still in the outbox without a publish bar, at its creation', () => {
    const pending = chain([event('e', 'op', { createdAt: at(40), publishedAt: null })])
    const layout = waterfallLayout(pending)
    expect(layout.rows[0]).toMatchObject({ publish: null, createdAt: 1 })
  })

  it('starts a tree for an event whose parent is not in the chain, and survives parent cycles', () => {
    const odd = chain([
      event('orphan', 'gone', { createdAt: at(5) }),
      event('a', 'b', { createdAt: at(6) }),
      event('b', 'a', { createdAt: at(7) }),
      event('self', 'self', { createdAt: at(8) }),
    ])
    const rows = waterfallLayout(odd).rows
    expect(rows.map((r) => r.key).sort()).toEqual([
      'event:a',
      'event:b',
      'event:orphan',
      'event:self',
    ])
  })

  it('keeps every bar on the axis, whatever the times (clocks of several machines)', () => {
    const anyTime = fc.integer({ min: -5_000, max: 50_000 }).map(at)
    const arbitraryEvent = fc.record({
      createdAt: anyTime,
      publishedAt: fc.option(anyTime),
      attempts: fc.array(
        fc.record({
          consumerGroup: fc.constantFrom('a.x', 'b.y'),
          attempt: fc.option(fc.nat(9)),
          startedAt: fc.option(anyTime),
          endedAt: anyTime,
          outcome: fc.constantFrom('handled' as const, 'failed' as const),
        }),
        { maxLength: 6 },
      ),
    })
    fc.assert(
      fc.property(fc.array(arbitraryEvent, { maxLength: 5 }), (events) => {
        const layout = waterfallLayout(
          chain(events.map((e, i) => event(`e${i}`, i ? `e${i - 1}` : 'op', e))),
        )
        for (const row of layout.rows) {
          const spans =
            row.kind === 'event'
              ? row.publish
                ? [row.publish]
                : []
              : [...row.attempts, ...row.waits]
          for (const span of spans) {
            expect(span.from).toBeGreaterThanOrEqual(0)
            expect(span.to).toBeLessThanOrEqual(1)
            expect(span.to).toBeGreaterThanOrEqual(span.from)
          }
        }
        expect(layout.end).toBeGreaterThanOrEqual(layout.start)
      }),
    )
  })
})

describe('tick marks', () => {
  it('fall on round steps, at most six after 0', () => {
    expect(ticksFor(2_400).map((t) => t.ms)).toEqual([0, 500, 1_000, 1_500, 2_000])
    expect(ticksFor(90_000).map((t) => t.ms)).toEqual([
      0, 15_000, 30_000, 45_000, 60_000, 75_000, 90_000,
    ])
    expect(ticksFor(0).map((t) => t.ms)).toEqual([0, 1])
    for (const span of [1, 7, 999, 61_000, 3 * 86_400_000]) {
      const ticks = ticksFor(span)
      expect(ticks.length).toBeLessThanOrEqual(7)
      expect(ticks.at(-1)!.at).toBeLessThanOrEqual(1)
    }
  })
})
