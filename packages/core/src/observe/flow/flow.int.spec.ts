import { request } from 'node:http'
import {
  createTestNamespace,
  eventually,
  getTestServers,
  startTcpProxy,
} from '@event-driven/testing'
import fc from 'fast-check'
import { MongoClient } from 'mongodb'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { FlowGraphAnswer, SubjectChainAnswer } from '../../admin/schemas.ts'
import { startAdminServer, type AdminServer } from '../../admin/server.ts'
import { defineEvent } from '../../event-definition.ts'
import { openEventStore, type AdminSource, type EventStoreTools } from '../../open-event-store.ts'
import type { Service } from '../../service.ts'
import { eventStore, type FlowStatRecord } from '../../store/event-store.ts'
import { captureLogs, createTestService, fastTestOptions } from '../../testing/test-service.ts'
import { flowGraph } from './graph.ts'
import { bucketOf, bucketRange } from './histogram.ts'
import { hourMs, minuteMs, periodStart } from './periods.ts'
import { flowRecorder } from './recorder.ts'

// The flow recorder in real services on the real servers: events go through NATS, every instance
// counts what it saw and flushes to flow_stats, and the admin API reads the graph back.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'flow')
const scope = 'flow'
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const store = eventStore(mongo.db(fastTestOptions(ns, scope).database))

const OrderPlaced = defineEvent({
  subject: 'Order.placed',
  version: 1,
  schema: z.object({ n: z.int(), fail: z.boolean() }),
})
const StockReserved = defineEvent({
  subject: 'Stock.reserved',
  version: 1,
  schema: z.object({ n: z.int() }),
})
const RefundIssued = defineEvent({
  subject: 'Refund.issued',
  version: 1,
  schema: z.object({ n: z.int() }),
})

const orders = 12
const failing = 4 // the bill handler fails their first delivery
/** What the handlers saw: each run's time from the event's record to its end, by group. */
const observed = { reserve: [] as number[], bill: [] as number[], ship: [] as number[] }
const handled = { reserve: new Set<number>(), bill: new Set<number>(), ship: new Set<number>() }

/** One instance of the shop: every instance registers the same handlers (the same groups). */
async function shopInstance(): Promise<Service> {
  const shop = await createTestService(ns, servers, 'shop', { scope })
  shop.on(OrderPlaced, { handler: 'reserve' }, async (event, ctx) => {
    await ctx.publish(StockReserved, { n: event.data.n })
    observed.reserve.push(Date.now() - event.createdAt.getTime())
    handled.reserve.add(event.data.n)
  })
  shop.on(OrderPlaced, { handler: 'bill' }, async (event, ctx) => {
    if (event.data.fail && ctx.attempt === 1) throw new Error('the card was declined')
    observed.bill.push(Date.now() - event.createdAt.getTime())
    handled.bill.add(event.data.n)
  })
  shop.on(StockReserved, { handler: 'ship' }, async (event) => {
    observed.ship.push(Date.now() - event.createdAt.getTime())
    handled.ship.add(event.data.n)
  })
  // Never published: a quiet consumer group.
  shop.on(RefundIssued, { handler: 'refund' }, async () => undefined)
  await shop.start()
  return shop
}

let tools: EventStoreTools
let admin: AdminServer
const stopped: Service[] = []
beforeAll(async () => {
  const instances = [await shopInstance(), await shopInstance()]
  // Half the orders through each instance: each counts (and flushes) its own publishes.
  await Promise.all(
    instances.map(async (shop, i) => {
      for (let n = i; n < orders; n += 2) {
        const op = await shop.startOperation({ name: 'orderPlace', input: { n } })
        await op.publish(OrderPlaced, { n, fail: n < failing })
      }
    }),
  )
  await eventually(
    () => {
      expect(handled.reserve.size).toBe(orders)
      expect(handled.bill.size).toBe(orders)
      expect(handled.ship.size).toBe(orders)
    },
    { timeoutMs: 30_000 },
  )
  // Stopping flushes what each instance counted.
  for (const shop of instances) {
    await shop.stop()
    stopped.push(shop)
  }
  const options = fastTestOptions(ns, scope)
  tools = await openEventStore({
    mongodb: servers.mongodbUrl,
    nats: servers.natsUrl,
    database: options.database!,
    stream: options.stream!,
  })
  admin = await startAdminServer({
    service: tools,
    apiKeys: [{ name: 'ops', secret: 'flow-secret' }],
    logger: pino({ level: 'silent' }),
    authFailureLimit: 1_000,
  })
}, 60_000)
afterAll(async () => {
  await admin?.close()
  await tools?.close()
  await mongo.close()
  await ns.cleanup()
})

/** GET with the path sent exactly as written (fetch would resolve `.` and `..` first). */
function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      admin.url,
      { path, method: 'GET', headers: { authorization: 'Bearer flow-secret' } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          }),
        )
      },
    )
    req.on('error', reject).end()
  })
}

async function graph(window?: string): Promise<FlowGraphAnswer> {
  const answer = await get(`/api/flow${window ? `?window=${window}` : ''}`)
  expect(answer.status, JSON.stringify(answer.body)).toBe(200)
  return answer.body as unknown as FlowGraphAnswer
}

const edgeOf = (g: FlowGraphAnswer, from: string, to: string) => {
  const edge = g.edges.find((e) => e.from === from && e.to === to)
  expect(edge, `${from} → ${to} in ${JSON.stringify(g.edges)}`).toBeDefined()
  return edge!
}

/** Text encodeURIComponent takes (no lone surrogate). */
function wellFormed(text: string): boolean {
  try {
    encodeURIComponent(text)
    return true
  } catch {
    return false
  }
}

/** The bucket bounds around what the handlers saw (the recorder reads its clock just after). */
function boundsOf(times: number[]) {
  return {
    lower: bucketRange(bucketOf(Math.min(...times))).lower,
    upper: bucketRange(bucketOf(Math.max(...times) + 50)).upper,
  }
}

describe('the flow of each subject', () => {
  it('shows each edge with exact counts and failures, after real events and a flush', async () => {
    const g = await graph()
    expect(g.window).toBe('1h')
    // Per minute of the span read: from the minute an hour ago began to now.
    const minutes = (Date.parse(g.until) - Date.parse(g.since)) / minuteMs
    expect(minutes).toBeGreaterThanOrEqual(60)
    expect(minutes).toBeLessThanOrEqual(61)
    expect(edgeOf(g, 'service:shop', 'subject:Order.placed')).toMatchObject({
      kind: 'publishes',
      count: orders,
      failures: 0,
      perMinute: orders / minutes,
    })
    expect(edgeOf(g, 'subject:Order.placed', 'group:shop.reserve')).toMatchObject({
      kind: 'delivers',
      count: orders,
      failures: 0,
      failureRate: 0,
    })
    expect(edgeOf(g, 'subject:Order.placed', 'group:shop.bill')).toMatchObject({
      kind: 'delivers',
      count: orders + failing,
      failures: failing,
      failureRate: failing / (orders + failing),
    })
    expect(edgeOf(g, 'group:shop.reserve', 'subject:Stock.reserved')).toMatchObject({
      kind: 'emits',
      count: orders,
      failures: 0,
    })
    expect(edgeOf(g, 'subject:Stock.reserved', 'group:shop.ship')).toMatchObject({
      kind: 'delivers',
      count: orders,
    })
    expect(g.nodes).toEqual(
      expect.arrayContaining([
        { id: 'service:shop', kind: 'service', label: 'shop' },
        { id: 'subject:Order.placed', kind: 'subject', label: 'Order.placed' },
        { id: 'group:shop.bill', kind: 'group', label: 'shop.bill' },
      ]),
    )
  })

  it('estimates p50 ≤ p95 within the buckets of the step times the handlers saw', async () => {
    const g = await graph()
    for (const [group, subject] of [
      ['reserve', 'Order.placed'],
      ['bill', 'Order.placed'],
      ['ship', 'Stock.reserved'],
    ] as const) {
      const edge = edgeOf(g, `subject:${subject}`, `group:shop.${group}`)
      const { lower, upper } = boundsOf(observed[group])
      expect(edge.p50Ms).not.toBeNull()
      expect(edge.p50Ms!).toBeLessThanOrEqual(edge.p95Ms!)
      expect(edge.p50Ms!).toBeGreaterThanOrEqual(lower)
      expect(edge.p95Ms!).toBeLessThanOrEqual(upper)
    }
    const emits = edgeOf(g, 'group:shop.reserve', 'subject:Stock.reserved')
    expect(emits.p50Ms!).toBeLessThanOrEqual(emits.p95Ms!)
    // A child is recorded while its parent's handler runs: before that run ends.
    expect(emits.p95Ms!).toBeLessThanOrEqual(boundsOf(observed.reserve).upper)
  })

  it('shows a quiet consumer group with count 0', async () => {
    expect(edgeOf(await graph(), 'subject:Refund.issued', 'group:shop.refund')).toEqual({
      from: 'subject:Refund.issued',
      to: 'group:shop.refund',
      kind: 'delivers',
      count: 0,
      perMinute: 0,
      failures: 0,
      failureRate: 0,
      p50Ms: null,
      p95Ms: null,
    })
  })

  it('adds up what each instance flushed: two instances, one edge', async () => {
    for (const resolution of ['minute', 'hour'] as const) {
      const docs = await store.flowStats
        .find({ resolution, kind: 'publishes', from: 'shop', to: 'Order.placed' })
        .toArray()
      const instances = new Set(docs.map((d) => d._id.split(':')[0]))
      expect(instances.size, resolution).toBe(2)
      expect(
        docs.reduce((sum, d) => sum + d.count, 0),
        resolution,
      ).toBe(orders)
    }
  })

  it('counts only the window: an older hour shows in a longer window alone', async () => {
    const twoHoursAgo = Date.now() - 2 * hourMs
    const old = (resolution: FlowStatRecord['resolution']): FlowStatRecord => ({
      _id: `old-instance:1:${resolution}`,
      resolution,
      periodAt: new Date(periodStart(twoHoursAgo, resolution)),
      kind: 'delivers',
      from: 'Order.placed',
      to: 'shop.reserve',
      count: 1000,
      failures: 7,
      buckets: [...Array<number>(10).fill(0), 1000],
      expireAt: new Date(Date.now() + hourMs),
    })
    // Its hour, and a minute no window reads any more (the hour holds it).
    await store.flowStats.insertMany([old('hour'), old('minute')])
    const within = (g: FlowGraphAnswer) => edgeOf(g, 'subject:Order.placed', 'group:shop.reserve')
    expect(within(await graph('1h'))).toMatchObject({ count: orders, failures: 0 })
    expect(within(await graph('15m'))).toMatchObject({ count: orders })
    expect(within(await graph('6h'))).toMatchObject({ count: orders + 1000, failures: 7 })
    expect(within(await graph('24h'))).toMatchObject({ count: orders + 1000, failures: 7 })
    await store.flowStats.deleteMany({ _id: /^old-instance:/ })
  })

  it("walks a subject's chain two levels down", async () => {
    const answer = await get(`/api/flow/subjects/${encodeURIComponent('Order.placed')}`)
    expect(answer.status).toBe(200)
    const chain = answer.body as unknown as SubjectChainAnswer
    expect(chain).toMatchObject({ subject: 'Order.placed', window: '1h', count: orders })
    expect(chain.steps.map((s) => [s.depth, s.kind, s.from, s.to, s.count, s.failures])).toEqual([
      [1, 'delivers', 'subject:Order.placed', 'group:shop.bill', orders + failing, failing],
      [1, 'delivers', 'subject:Order.placed', 'group:shop.reserve', orders, 0],
      [2, 'emits', 'group:shop.reserve', 'subject:Stock.reserved', orders, 0],
      [3, 'delivers', 'subject:Stock.reserved', 'group:shop.ship', orders, 0],
    ])
    const unknown = await get('/api/flow/subjects/Nothing.happened?window=15m')
    expect(unknown.status).toBe(200)
    expect(unknown.body).toMatchObject({ subject: 'Nothing.happened', count: 0, steps: [] })
  })

  it('refuses hostile windows and subjects with 400, or answers an empty chain: never a 500', async () => {
    expect((await get('/api/flow?window=1h&window=6h')).status).toBe(400)
    expect((await get('/api/flow?windows=1h')).status).toBe(400)
    expect((await get('/api/flow?window=2h')).body).toEqual({
      error: 'window must be one of 15m, 1h, 6h, 24h',
    })
    expect((await get('/api/flow/subjects/a%00b')).status).toBe(400)
    expect((await get(`/api/flow/subjects/${'x'.repeat(1025)}`)).status).toBe(400)
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 30 }).filter(wellFormed),
        async (window) => {
          const { status } = await get(`/api/flow?window=${encodeURIComponent(window)}`)
          expect(status).toBe(['', '15m', '1h', '6h', '24h'].includes(window) ? 200 : 400)
        },
      ),
      { numRuns: 60 },
    )
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
          fc.constantFrom('.', '..', '%', '/', '\\', '\u0000', '__proto__', '$where', 'a.b.c'),
        ),
        fc.constantFrom('', '?window=24h', '?window=x'),
        async (subject, query) => {
          const path = wellFormed(subject)
            ? `/api/flow/subjects/${encodeURIComponent(subject)}${query}`
            : `/api/flow/subjects/%ED%A0%80${query}`
          const { status, body } = await get(path)
          expect([200, 400], `${path}: ${JSON.stringify(body)}`).toContain(status)
          if (status === 200) expect(body).toMatchObject({ subject, count: 0, steps: [] })
        },
      ),
      { numRuns: 100 },
    )
  })
})

describe('minutes and hours', () => {
  /** A recorder on its own clock, writing to a database of its own (ids: instance per recorder). */
  function clocked(scopeName: string, start: number) {
    const clock = { now: start }
    const recorder = flowRecorder({
      store: eventStore(mongo.db(fastTestOptions(ns, scopeName).database)),
      logger: pino({ level: 'silent' }),
      now: () => clock.now,
    })
    const run = (failed = false) =>
      recorder.handlerRan({
        consumerGroup: 'shop.audit',
        subject: 'Order.placed',
        durationMs: 1,
        attempt: 1,
        failed,
        eventCreatedAt: new Date(Date.now() - 40),
      })
    return { clock, recorder, run }
  }
  // Hours ahead of the real clock: MongoDB's TTL monitor leaves the documents alone.
  const hour = periodStart(Date.now(), 'hour') + 3 * hourMs
  const min = minuteMs

  it('writes one document per resolution for an edge, however many flushes a minute has', async () => {
    const { clock, recorder, run } = clocked('flow-one-per', hour + 10 * min)
    const written = eventStore(mongo.db(fastTestOptions(ns, 'flow-one-per').database)).flowStats
    for (let i = 0; i < 200; i++) {
      clock.now += 100 // 20 s, within the minute
      run(i % 10 === 0)
      if (i % 20 === 0) await recorder.flush()
    }
    expect(await written.countDocuments()).toBe(0)
    clock.now = hour + 11 * min + 1_000
    await recorder.flush()
    clock.now = hour + hourMs + 1_000
    await recorder.flush()
    await recorder.flush()
    const docs = await written.find().sort({ resolution: 1 }).toArray()
    expect(docs.map((d) => [d.resolution, d.periodAt, d.count, d.failures])).toEqual([
      ['hour', new Date(hour), 200, 20],
      ['minute', new Date(hour + 10 * min), 200, 20],
    ])
    for (const d of docs) expect(d.buckets[bucketOf(40)], d.resolution).toBeGreaterThan(0)
  })

  it("reads 6h from hours and the current hour's minutes, an hour a stopped instance wrote early once", async () => {
    const name = 'flow-hours'
    const hours: AdminSource = {
      ...tools,
      store: eventStore(mongo.db(fastTestOptions(ns, name).database)),
    }
    const edge = async (window: '15m' | '1h' | '6h' | '24h', at: number) => {
      const g = await flowGraph(hours, window, new Date(at))
      const found = g.edges.find((e) => e.to === 'group:shop.audit')
      return { since: g.since, count: found?.count ?? 0, perMinute: found?.perMinute, found }
    }
    // Instance a: 5 runs late in the first hour, 5 in the next, then it stops (at +1h20m).
    const a = clocked(name, hour + 50 * min)
    for (let i = 0; i < 3; i++) a.run()
    a.clock.now = hour + 59 * min + 30_000
    a.run()
    a.run(true)
    a.clock.now = hour + hourMs + 5_000
    await a.recorder.flush() // the ended minutes and the ended hour
    for (let i = 0; i < 4; i++) a.run()
    a.clock.now = hour + hourMs + 20 * min
    a.run()
    await a.recorder.flush(true) // the stop: the current minute and the hour so far
    // Instance b runs on: 2 runs at +1h30m, flushed a minute later.
    const b = clocked(name, hour + hourMs + 30 * min)
    b.run()
    b.run()
    b.clock.now = hour + hourMs + 31 * min
    await b.recorder.flush()

    const read = hour + hourMs + 40 * min
    const sixHours = await edge('6h', read)
    // Hour 0 (5) from its hour document, hour 1 (4 + 1 + 2) from its minutes: a's early hour
    // document for hour 1 (5) is not read beside them.
    expect(sixHours.count).toBe(12)
    expect(sixHours.since).toEqual(new Date(hour - 5 * hourMs))
    expect(sixHours.perMinute).toBe(12 / (6 * 60 + 40))
    expect(sixHours.found).toMatchObject({ failures: 1 })
    expect(sixHours.found!.p95Ms!).toBeLessThanOrEqual(bucketRange(bucketOf(40)).upper)
    expect(await edge('24h', read)).toMatchObject({ count: 12 })
    expect(await edge('1h', read)).toMatchObject({ count: 12, since: new Date(read - hourMs) })
    expect(await edge('15m', read)).toMatchObject({ count: 2 })

    // Just after hour 1 ends, b has not written it yet: hour 1 is still read from its minutes.
    b.clock.now = hour + 2 * hourMs + 30_000
    expect(await edge('6h', b.clock.now)).toMatchObject({ count: 12 })
    await b.recorder.flush()
    // Later, hours 0 and 1 from their hour documents (a's early one for hour 1 with b's).
    expect(await edge('6h', hour + 2 * hourMs + 5 * min)).toMatchObject({ count: 12 })
    const docs = await hours.store.flowStats.find().toArray()
    const of = (resolution: string) => docs.filter((d) => d.resolution === resolution)
    expect(
      of('hour')
        .map((d) => d.count)
        .sort(),
    ).toEqual([2, 5, 5])
    expect(of('minute')).toHaveLength(5)
    // Nothing of it is in a window that began after it.
    expect(await edge('1h', hour + 3 * hourMs + 5 * min)).toMatchObject({ count: 0 })
  })
})

describe('the flow recorder on its own', () => {
  it('keeps the counts of a flush MongoDB did not take, and the next flush writes them once', async () => {
    const url = new URL(servers.mongodbUrl)
    const proxy = await startTcpProxy(url.hostname, Number(url.port || 27017))
    // Connected, as a service's client is, then cut off under the recorder.
    const proxied = await new MongoClient(proxy.proxiedUrl(servers.mongodbUrl), {
      serverSelectionTimeoutMS: 500,
    }).connect()
    const logs = captureLogs()
    try {
      const database = `${fastTestOptions(ns, 'flow-failing').database}`
      const direct = eventStore(mongo.db(database))
      const recorder = flowRecorder({
        store: eventStore(proxied.db(database)),
        logger: logs.logger,
      })
      const run = { consumerGroup: 'mail.send', subject: 'Mail.queued', durationMs: 1, attempt: 1 }
      recorder.handlerRan({ ...run, failed: false, eventCreatedAt: new Date(Date.now() - 40) })
      recorder.handlerRan({ ...run, failed: true })
      await proxy.cut()
      await recorder.flush(true)
      expect(logs.messages()).toContain('flow counts could not be written: kept for the next flush')
      expect(await direct.flowStats.countDocuments()).toBe(0)
      // Counted meanwhile: written with the kept ones.
      recorder.handlerRan({ ...run, failed: false, eventCreatedAt: new Date(Date.now() - 40) })
      await proxy.restore()
      // The next flush that reaches MongoDB writes them (the client finds the server again).
      const docs = await eventually(async () => {
        await recorder.flush(true)
        const written = await direct.flowStats.find().toArray()
        expect(written.length, JSON.stringify(logs.lines.slice(-3))).toBeGreaterThan(0)
        return written
      })
      await recorder.flush(true)
      expect(await direct.flowStats.countDocuments()).toBe(docs.length)
      for (const resolution of ['minute', 'hour'] as const) {
        const of = docs.filter((d) => d.resolution === resolution)
        const sum = (counter: (d: FlowStatRecord) => number) =>
          of.reduce((total, d) => total + counter(d), 0)
        expect(sum((d) => d.count)).toBe(3)
        expect(sum((d) => d.failures)).toBe(1)
        expect(sum((d) => d.buckets[5] ?? 0)).toBe(2) // 40 ms: (25, 50]
      }
      expect(logs.messages()).toContain('flow counts are written again')
    } finally {
      await proxied.close()
      await proxy.close()
    }
  })

  it('removes counts past their keep time: a TTL index, or a sweep where the server has none', async () => {
    const kept = eventStore(mongo.db(fastTestOptions(ns, 'flow-expiry').database))
    const doc = (id: string, expireAt: Date): FlowStatRecord => ({
      _id: id,
      resolution: 'minute',
      periodAt: new Date(),
      kind: 'publishes',
      from: 'mail',
      to: 'Mail.queued',
      count: 1,
      failures: 0,
      buckets: [],
      expireAt,
    })
    await kept.flowStats.insertMany([
      doc('expired', new Date(Date.now() - 1_000)),
      doc('current', new Date(Date.now() + 60 * 60_000)),
    ])
    const mail = await createTestService(ns, servers, 'mail', { scope: 'flow-expiry' })
    await mail.start()
    await mail.stop()
    const indexes = (await kept.flowStats.listIndexes().toArray()) as { name: string }[]
    if (indexes.some((i) => i.name === 'expireAt_ttl')) return // MongoDB's TTL monitor removes it
    expect((await kept.flowStats.find().toArray()).map((d) => d._id)).toEqual(['current'])
  })

  it('writes nothing when turned off', async () => {
    const quiet = await createTestService(ns, servers, 'quiet', { scope: 'flow-off', flow: false })
    let seen = 0
    quiet.on(RefundIssued, { handler: 'note' }, async () => void seen++)
    await quiet.start()
    const op = await quiet.startOperation({ name: 'refund' })
    await op.publish(RefundIssued, { n: 1 })
    await eventually(() => expect(seen).toBe(1))
    await quiet.stop()
    const off = eventStore(mongo.db(fastTestOptions(ns, 'flow-off').database))
    expect(await off.flowStats.countDocuments()).toBe(0)
  })
})
