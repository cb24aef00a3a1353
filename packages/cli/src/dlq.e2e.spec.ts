import { createService, defineEvent, type Service } from '@event-driven/core'
import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { cliRunner } from './testing/cli.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'cli dlq')
const stream = { name: `${ns.subjectPrefix}_EVENTS`, subjectPrefix: ns.subjectPrefix }
const OrderPlaced = defineEvent({
  subject: 'Order.placed',
  version: 1,
  schema: z.object({ orderId: z.string() }),
})

let shop: Service
let works = false
const shipped: string[] = []
const entries: string[] = []
beforeAll(async () => {
  shop = await createService({
    name: 'shop',
    nats: servers.natsUrl,
    mongodb: servers.mongodbUrl,
    database: ns.database,
    stream,
    retry: { baseDelayMs: 20, maxDelayMs: 50 },
    logger: pino({ level: 'silent' }),
    stopOnSignals: false,
  })
  shop.on(OrderPlaced, { handler: 'ship' }, async (event) => {
    if (!works) throw new Error('warehouse API is down')
    shipped.push(event.data.orderId)
  })
  await shop.start()
  const op = await shop.startOperation({ name: 'orderPlace' })
  const eventIds: string[] = []
  for (const orderId of ['o1', 'o2', 'o3'])
    eventIds.push(await op.publish(OrderPlaced, { orderId }))
  await eventually(async () => expect((await shop.dlq.list()).entries).toHaveLength(3), {
    timeoutMs: 20_000,
  })
  for (const eventId of eventIds) entries.push((await shop.dlq.list({ eventId })).entries[0]!._id)
})
afterAll(async () => {
  await shop.stop()
  await ns.cleanup()
})

const run = cliRunner({
  database: ns.database,
  stream,
  env: { NATS_URL: servers.natsUrl, MONGODB_URL: servers.mongodbUrl },
})
/** Commands that act on entries say who acts. */
const cli = (...args: string[]) => run(...args, ...(args[0] === 'dlq' ? ['--by', 'tester'] : []))

describe('event-driven dlq', () => {
  it('list prints a table, or JSON with --json', async () => {
    const listed = await cli('dlq', 'list', '--consumer-group', 'shop.ship')
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/^ID +STATUS +CONSUMER GROUP +SUBJECT +CREATED +REASON/)
    expect(listed.stdout).toContain('shop.ship')
    expect(listed.stdout).toMatch(/\n3 entries\n$/)
    const json = await cli('dlq', 'list', '--json')
    expect(JSON.parse(json.stdout)).toMatchObject({ entries: [{}, {}, {}], next: null })
  })

  it('list pages with --limit and --before, newest first, each entry once', async () => {
    const first = await cli('dlq', 'list', '--limit', '2')
    const next = /\n2 entries; older ones: --before (\S+)\n$/.exec(first.stdout)?.[1]
    expect(next).toBeDefined()
    const second = await cli('dlq', 'list', '--limit', '2', '--before', next!, '--json')
    const { entries: rest, next: after } = JSON.parse(second.stdout) as {
      entries: { _id: string }[]
      next: string | null
    }
    expect(after).toBeNull()
    const seen = [...first.stdout.matchAll(/^(\S+) +open/gm)]
      .map((m) => m[1])
      .concat(rest.map((e) => e._id))
    expect(new Set(seen)).toEqual(new Set(entries))
    const unknown = await cli('dlq', 'list', '--before', 'no-such-entry', '--json')
    expect(unknown.code).toBe(0)
    expect(JSON.parse(unknown.stdout)).toEqual({ entries: [], next: null })
  })

  it('show prints an entry and its attempts; an unknown id exits 1', async () => {
    const shown = await cli('dlq', 'show', entries[0]!)
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain('warehouse API is down')
    expect(shown.stdout).toContain('payload        {"orderId":"o1"}')
    expect(await cli('dlq', 'show', 'nope')).toMatchObject({
      code: 1,
      stderr: 'no DLQ entry nope\n',
    })
  })

  it('redrive of one entry, then by filter with progress; a second redrive is refused with exit 1', async () => {
    works = true
    const one = await cli('dlq', 'redrive', entries[0]!)
    expect(one).toMatchObject({ code: 0, stdout: `${entries[0]}: redriven\n` })
    const again = await cli('dlq', 'redrive', entries[0]!)
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/^refused: the entry is redriven \(redrive by tester/)

    const rest = await cli('dlq', 'redrive', '--consumer-group', 'shop.ship')
    expect(rest.code).toBe(0)
    expect(rest.stdout).toBe('redriven 2 of 2 open entries\n')
    expect(rest.stderr).toContain('[##############################] 2/2')
    await eventually(() => expect(shipped.sort()).toEqual(['o1', 'o2', 'o3']))
  })

  it('wrong usage exits 2 with the usage', async () => {
    expect(await cli('dlq', 'list', '--status', 'lost')).toMatchObject({ code: 2 })
    expect((await cli('dlq', 'discard', entries[1]!)).code).toBe(2)
    const bare = await cli('nothing')
    expect(bare.code).toBe(2)
    expect(bare.stderr).toContain('usage: event-driven <command>')
    expect(bare.stderr).toContain('dlq list|show|redrive|discard|resolve')
    const dlqBare = await cli('dlq')
    expect(dlqBare.code).toBe(2)
    expect(dlqBare.stderr).toContain('usage: event-driven dlq <command>')
  })
})
