import { join } from 'node:path'
import { createService, type ReceivedEvent, type Service } from '@event-driven/core'
import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliRunner } from './testing/cli.ts'
import { OrderPlaced, OrderPlacedV1 } from './testing/order-events.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'cli history')
const stream = { name: `${ns.subjectPrefix}_EVENTS`, subjectPrefix: ns.subjectPrefix }
const cli = cliRunner({
  database: ns.database,
  stream,
  env: {
    NATS_URL: servers.natsUrl,
    MONGODB_URL: servers.mongodbUrl,
    ARCHIVE_BUCKET: ns.bucket,
    S3_URL: servers.s3.endpoint,
    S3_REGION: servers.s3.region,
    S3_ACCESS_KEY_ID: servers.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: servers.s3.secretAccessKey,
  },
})

let shop: Service
const shipped: ReceivedEvent<{ orderId: string; totalCents: number }>[] = []
let since: Date
beforeAll(async () => {
  const settings = {
    nats: servers.natsUrl,
    mongodb: servers.mongodbUrl,
    database: ns.database,
    stream,
    logger: pino({ level: 'silent' }),
    stopOnSignals: false,
  }
  // Three orders recorded by an older release, at version 1.
  const legacy = await createService({ name: 'shop-legacy', ...settings })
  since = new Date()
  const op = await legacy.startOperation({ name: 'ordersImport' })
  for (const [orderId, total] of [
    ['o1', 12.5],
    ['o2', 3],
    ['o3', 99.99],
  ] as const) {
    await op.publish(OrderPlacedV1, { orderId, total })
  }
  await op.complete()
  await legacy.stop()

  shop = await createService({ name: 'shop', ...settings })
  shop.on(OrderPlaced, { handler: 'ship' }, async (event) => void shipped.push(event))
  await shop.start()
  await eventually(() => expect(shipped).toHaveLength(3))
  await eventually(async () => expect(await shop.store.events.countDocuments()).toBe(3))
})
afterAll(async () => {
  await shop.stop()
  await ns.cleanup()
})

describe('event-driven archive, replay and migrate', () => {
  it('archive status, then archive run: every event copied to S3', async () => {
    const before = await cli('archive', 'status')
    expect(before.code).toBe(0)
    expect(before.stdout).toMatch(/events\s+3\s+3/)
    const run = await cli('archive', 'run')
    expect(run).toMatchObject({ code: 0 })
    expect(run.stdout).toMatch(new RegExp(`archived [4-9] documents to s3://${ns.bucket}/`))
    expect((await cli('archive', 'status')).stdout).toMatch(/events\s+0\s+3/)
  })

  it('replay from the archive to one consumer group: a dry run counts, then each is delivered once, upcast', async () => {
    const replayArchive = [
      'replay',
      '--from',
      's3',
      '--subject',
      'Order.placed',
      '--since',
      since.toISOString(),
      '--to',
      'shop.ship',
    ]
    const dryRun = await cli(...replayArchive, '--dry-run')
    expect(dryRun).toMatchObject({ code: 0 })
    expect(dryRun.stdout).toContain('3 events match; nothing was delivered (dry run)')

    const replay = await cli(...replayArchive)
    expect(replay).toMatchObject({ code: 0 })
    expect(replay.stdout).toMatch(/^replayed 3 events to shop\.ship \(replay [0-9a-f-]{36}\)/)
    expect(replay.stderr).toContain('[##############################] 3/3')
    await eventually(() => expect(shipped).toHaveLength(6))
    expect(
      shipped
        .slice(3)
        .map((e) => [e.redelivery, e.publishedVersion, e.data.totalCents])
        .sort(),
    ).toEqual([
      ['replay', 1, 1250],
      ['replay', 1, 300],
      ['replay', 1, 9999],
    ])
  })

  it('replay --print writes the events as stored, as JSON Lines', async () => {
    const printed = await cli(
      'replay',
      '--from',
      's3',
      '--operation',
      shipped[0]!.operationId,
      '--print',
    )
    expect(printed).toMatchObject({ code: 0 })
    const lines = printed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { _id: string; version: number })
    expect(lines.map((l) => l.version)).toEqual([1, 1, 1])
    expect(printed.stderr).toContain('3 events written')
  })

  it('migrate --events: a dry run by subject and version, then the stored events at version 2', async () => {
    const events = join(import.meta.dirname, 'testing', 'order-events.ts')
    const dryRun = await cli('migrate', '--events', events, '--dry-run')
    expect(dryRun).toMatchObject({ code: 0 })
    expect(dryRun.stdout).toMatch(/Order\.placed\s+1\s+2\s+3/)
    expect(dryRun.stdout).toContain('3 events would be rewritten (dry run: nothing was written)')
    expect(await shop.store.events.countDocuments({ version: 1 })).toBe(3)

    const run = await cli('migrate', '--events', events)
    expect(run).toMatchObject({ code: 0 })
    expect(run.stdout).toContain('rewrote 3 of 3 events')
    const stored = await shop.store.events.find().toArray()
    expect(stored.map((e) => [e.version, e.migratedFrom])).toEqual([
      [2, 1],
      [2, 1],
      [2, 1],
    ])
    expect((await cli('migrate', '--events', events)).stdout).toContain(
      'every stored event is at its current version',
    )
  })

  it('migrate --framework: records of the previous format counted, moved, then none left', async () => {
    // As release 0.1 wrote them: no format.
    await shop.store.events.updateMany({}, { $unset: { format: '' } })
    await shop.store.operations.updateMany({}, { $unset: { format: '' } })
    const outdated =
      (await shop.store.events.countDocuments()) + (await shop.store.operations.countDocuments())

    const dryRun = await cli('migrate', '--framework', '--dry-run')
    expect(dryRun).toMatchObject({ code: 0 })
    expect(dryRun.stdout).toMatch(/events\s+3/)
    expect(dryRun.stdout).toContain(
      `${outdated} records would be moved (dry run: nothing was written)`,
    )
    expect(await shop.store.events.countDocuments({ format: 2 })).toBe(0)

    // Another run holds the lease: this one writes nothing, says whose, and exits 3.
    const leases = shop.store.db.collection<{ _id: string }>('framework_leases')
    await leases.insertOne({
      _id: 'framework-migration#1',
      format: 2,
      name: 'framework-migration',
      turn: 1,
      holder: 'ops-laptop:4242',
      until: new Date(Date.now() + 60_000),
      grantedAt: new Date(),
    } as never)
    const held = await cli('migrate', '--framework')
    expect(held.code).toBe(3)
    expect(held.stderr).toContain('another migration runs (ops-laptop:4242')
    expect(await shop.store.events.countDocuments({ format: 2 })).toBe(0)
    await leases.deleteMany({})

    const run = await cli('migrate', '--framework')
    expect(run).toMatchObject({ code: 0 })
    expect(run.stdout).toContain(`moved ${outdated} of ${outdated} records to the current format`)
    expect(await shop.store.events.countDocuments({ format: 2 })).toBe(3)
    expect((await cli('migrate', '--framework')).stdout).toContain(
      'every framework record is in the current format',
    )
    expect((await cli('migrate', '--framework', '--events', 'x.ts')).code).toBe(2)
  })

  it('wrong usage exits 2 and says why', async () => {
    const noTarget = await cli('replay', '--subject', 'Order.placed')
    expect(noTarget.code).toBe(2)
    expect(noTarget.stderr).toContain(
      'say where the events go: one of --to, --print, --out (or --dry-run)',
    )
    const badDate = await cli('replay', '--since', 'yesterday', '--print')
    expect(badDate.stderr).toContain('--since is not a date: yesterday')
    const unknownGroup = await cli('replay', '--to', 'shop.nothing')
    expect(unknownGroup.code).toBe(2)
    expect(unknownGroup.stderr).toContain('no consumer group shop.nothing (durable shop_nothing)')
    expect((await cli('migrate')).code).toBe(2)
  })
})
