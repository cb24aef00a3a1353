import { createService, defineEvent, type Service } from '@event-driven/core'
import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { cliRunner } from './testing/cli.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'cli partitions')
const stream = { name: `${ns.subjectPrefix}_EVENTS`, subjectPrefix: ns.subjectPrefix }
const CartUpdated = defineEvent({
  subject: 'Cart.updated',
  version: 1,
  schema: z.object({ cartId: z.string() }),
  key: (data) => data.cartId,
})

let shop: Service
let doomedEntry = ''
beforeAll(async () => {
  shop = await createService({
    name: 'shop',
    nats: servers.natsUrl,
    mongodb: servers.mongodbUrl,
    database: ns.database,
    stream: { ...stream, partitions: 4 },
    retry: { baseDelayMs: 20, maxDelayMs: 50 },
    logger: pino({ level: 'silent' }),
    stopOnSignals: false,
  })
  shop.on(CartUpdated, { handler: 'price' }, async (event) => {
    if (event.data.cartId === 'doomed') throw new Error('price list unreachable')
  })
  await shop.start()
  const op = await shop.startOperation({ name: 'cartUpdate' })
  const eventId = await op.publish(CartUpdated, { cartId: 'doomed' })
  doomedEntry = await eventually(async () => {
    const { entries } = await shop.dlq.list({ eventId })
    expect(entries).toHaveLength(1)
    return entries[0]!._id
  })
})
afterAll(async () => {
  await shop.stop()
  await ns.cleanup()
})

const cli = cliRunner({
  database: ns.database,
  stream,
  env: { NATS_URL: servers.natsUrl, MONGODB_URL: servers.mongodbUrl },
})

describe('event-driven partitions', () => {
  it('prints the partition count and each ordered group', async () => {
    const status = await cli('partitions')
    expect(status).toMatchObject({ code: 0 })
    expect(status.stdout).toBe('4 partitions\n  shop.price: 4 partitions, nothing waiting\n')
  })

  it('set <n> changes it when nothing waits; a bad count is a usage error', async () => {
    expect(await cli('partitions', 'set', '0')).toMatchObject({ code: 2 })
    expect(await cli('partitions', 'set', 'many')).toMatchObject({ code: 2 })
    const set = await cli('partitions', 'set', '8')
    expect(set).toMatchObject({ code: 0 })
    expect(set.stdout).toContain(
      'partitions: 4 → 8; restart the services so they handle every partition',
    )
    const json = await cli('partitions', '--json')
    expect(JSON.parse(json.stdout)).toMatchObject({ partitions: 8 })
  })

  it("dlq show says an ordered group's entry was overtaken by its key's later events", async () => {
    const shown = await cli('dlq', 'show', doomedEntry)
    expect(shown).toMatchObject({ code: 0 })
    expect(shown.stdout).toMatch(
      /ordered {8}partition \d, key [0-9a-f]{16}: later events of its key were handled after it; a redrive delivers it after them/,
    )
  })
})
