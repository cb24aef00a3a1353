import {
  ensureIndexes,
  openEventStore,
  productIndexes,
  startAdminServer,
  type FlowEdgeKind,
} from '@event-driven/core/admin'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { MongoClient, type Collection, type Document } from 'mongodb'
import { pino } from 'pino'
import type { BenchContext } from './context.ts'
import { fmt, printTable } from './table.ts'

/**
 * The dashboard's flow read (`GET /api/flow`) on `flow_stats` as a busy system leaves it, against
 * the layout before it (one document per minute, edge, counter and instance, read with `$match`
 * and one `$sum` in a `$group`), both seeded with the same traffic in the same run.
 */
export interface FlowReadPlan {
  /** How much history each layout holds: its keep time (2 days by default). */
  keptHours: number
  edges: number
  instances: number
}

export interface FlowReadLatency {
  p50: number
  max: number
  samples: number
}

export interface FlowReadResult extends FlowReadPlan {
  documents: { minutes: number; hours: number; oldLayout: number }
  seedSeconds: { layout: number; oldLayout: number }
  reads: { window: '1h' | '24h'; layout: FlowReadLatency; oldLayout: FlowReadLatency }[]
}

const minuteMs = 60_000
const hourMs = 60 * minuteMs
/** Minute documents stay 2 hours; FerretDB's sweep (every 10 minutes) leaves up to 10 more. */
const keptMinutes = 130
const apiKey = 'bench-flow-read'

/** An edge's traffic per minute and instance: its count, failures, and times in two buckets. */
interface Edge {
  kind: FlowEdgeKind
  from: string
  to: string
  perMinute: number
  failuresPerMinute: number
}

function edgesOf(n: number): Edge[] {
  const kinds: FlowEdgeKind[] = ['publishes', 'delivers', 'emits', 'delivers']
  return Array.from({ length: n }, (_, i) => {
    const kind = kinds[i % kinds.length]!
    const subject = `Thing${i}.happened`
    const group = `svc${i % 3}.handle${i}`
    const [from, to] =
      kind === 'publishes'
        ? [`svc${i % 3}`, subject]
        : kind === 'emits'
          ? [group, subject]
          : [subject, group]
    // A few edges fail now and then: their minutes have a failures counter too.
    return { kind, from, to, perMinute: 20 + 7 * i, failuresPerMinute: i % 4 === 1 ? 1 : 0 }
  })
}

/** The buckets a minute's times fall in: (25, 50] ms and (50, 100] ms. */
const split = (count: number): [number, number] => [
  Math.ceil(count * 0.7),
  count - Math.ceil(count * 0.7),
]

export async function measureFlowRead(
  ctx: BenchContext,
  plan: FlowReadPlan,
  log: (line: string) => void,
): Promise<FlowReadResult> {
  const names = ctx.scope('flow-read')
  const oldNames = ctx.scope('flow-read-old')
  const nc = await connect({ servers: ctx.natsUrl })
  // The graph lists the stream's consumer groups: the stream has to be there (none are).
  await (
    await jetstreamManager(nc)
  ).streams.add({
    name: names.stream,
    subjects: [`${names.subjectPrefix}.>`],
  })
  await nc.close()
  const tools = await openEventStore({
    mongodb: ctx.mongodbUrl,
    database: names.database,
    nats: ctx.natsUrl,
    stream: { name: names.stream, subjectPrefix: names.subjectPrefix },
  })
  const admin = await startAdminServer({
    service: tools,
    apiKeys: [{ name: 'bench', secret: apiKey, role: 'read' }],
    logger: pino({ level: 'silent' }),
  })
  const mongo = await new MongoClient(ctx.mongodbUrl).connect()
  try {
    await ensureIndexes(tools.store, productIndexes)
    const old = mongo.db(oldNames.database).collection('flow_stats')
    await old.createIndex({ minuteAt: 1 })
    const edges = edgesOf(plan.edges)
    const now = Date.now()
    log(`flow-read: ${plan.edges} edges × ${plan.instances} instances, ${plan.keptHours} h kept`)
    let started = performance.now()
    const documents = await seedLayout(
      tools.store.flowStats as unknown as Collection<Document>,
      edges,
      plan,
      now,
    )
    const layoutSeconds = (performance.now() - started) / 1000
    started = performance.now()
    const oldLayout = await seedOldLayout(old, edges, plan, now)
    const oldSeconds = (performance.now() - started) / 1000
    log(
      `flow-read: ${fmt(documents.minutes + documents.hours)} documents (${fmt(layoutSeconds, 1)} s), old layout ${fmt(oldLayout)} (${fmt(oldSeconds, 1)} s)`,
    )

    const reads: FlowReadResult['reads'] = []
    for (const window of ['1h', '24h'] as const) {
      const windowMs = (window === '1h' ? 1 : 24) * hourMs
      let answer = { count: 0, since: '', until: '' }
      const layout = await sample(async () => {
        const res = await fetch(`${admin.url}/api/flow?window=${window}`, {
          headers: { authorization: `Bearer ${apiKey}` },
        })
        if (!res.ok) throw new Error(`GET /api/flow answered ${res.status}`)
        const body = (await res.json()) as {
          edges: { count: number }[]
          since: string
          until: string
        }
        answer = { ...body, count: body.edges.reduce((sum, e) => sum + e.count, 0) }
      })
      // The old read's window: from the minute `window` before the last answer's time.
      const until = Date.parse(answer.until)
      const since = new Date(Math.floor((until - windowMs) / minuteMs) * minuteMs)
      let oldCount = 0
      const oldLayoutRead = await sample(async () => {
        oldCount = await readOldLayout(old, since)
      })
      // Both layouts hold the same traffic: the last hour's minutes count the same.
      if (window === '1h' && answer.count !== oldCount)
        throw new Error(`the layouts disagree on the last hour: ${answer.count} and ${oldCount}`)
      log(`flow-read ${window}: ${fmt(layout.p50)} ms, old layout ${fmt(oldLayoutRead.p50)} ms`)
      reads.push({ window, layout, oldLayout: oldLayoutRead })
    }
    return {
      ...plan,
      documents: { ...documents, oldLayout },
      seedSeconds: { layout: layoutSeconds, oldLayout: oldSeconds },
      reads,
    }
  } finally {
    await admin.close()
    await tools.close()
    await mongo.close()
  }
}

/** Batches of 1,000, one `insertMany` each, as fast as the server takes them. */
function batched(collection: Collection<Document>) {
  let batch: Document[] = []
  let written = 0
  const flush = async () => {
    if (batch.length === 0) return
    const docs = batch
    batch = []
    await collection.insertMany(docs, { ordered: false })
    written += docs.length
  }
  return {
    async add(doc: Document) {
      batch.push(doc)
      if (batch.length >= 1_000) await flush()
    },
    async end() {
      await flush()
      return written
    },
  }
}

/**
 * This layout, as the recorders leave it: per instance and edge, one document per hour that
 * ended within the keep time, and one per minute of the last 2 hours and 10 minutes.
 */
async function seedLayout(
  collection: Collection<Document>,
  edges: Edge[],
  plan: FlowReadPlan,
  now: number,
): Promise<{ minutes: number; hours: number }> {
  const out = batched(collection)
  const currentHour = Math.floor(now / hourMs) * hourMs
  const currentMinute = Math.floor(now / minuteMs) * minuteMs
  let id = 0
  const doc = (resolution: 'minute' | 'hour', periodAt: number, e: Edge, minutes: number) => {
    const [fast, slow] = split(e.perMinute * minutes)
    return {
      _id: `bench-${resolution}-${id++}`,
      format: 1,
      resolution,
      periodAt: new Date(periodAt),
      kind: e.kind,
      from: e.from,
      to: e.to,
      count: e.perMinute * minutes,
      failures: e.failuresPerMinute * minutes,
      buckets: [0, 0, 0, 0, 0, fast, slow],
      expireAt: new Date(
        periodAt + (resolution === 'minute' ? 2 * hourMs : plan.keptHours * hourMs),
      ),
    }
  }
  let hours = 0
  let minutes = 0
  for (let instance = 0; instance < plan.instances; instance++) {
    for (const e of edges) {
      for (let h = 1; h <= plan.keptHours; h++, hours++)
        await out.add(doc('hour', currentHour - h * hourMs, e, 60))
      for (let m = 1; m <= Math.min(keptMinutes, plan.keptHours * 60); m++, minutes++)
        await out.add(doc('minute', currentMinute - m * minuteMs, e, 1))
    }
  }
  await out.end()
  return { minutes, hours }
}

/** The layout before: per minute, edge and instance, its count, failures and each bucket used. */
async function seedOldLayout(
  collection: Collection<Document>,
  edges: Edge[],
  plan: FlowReadPlan,
  now: number,
): Promise<number> {
  const out = batched(collection)
  const currentMinute = Math.floor(now / minuteMs) * minuteMs
  let id = 0
  for (let instance = 0; instance < plan.instances; instance++) {
    for (const e of edges) {
      for (let m = 1; m <= plan.keptHours * 60; m++) {
        const minuteAt = new Date(currentMinute - m * minuteMs)
        const expireAt = new Date(minuteAt.getTime() + plan.keptHours * hourMs)
        const [fast, slow] = split(e.perMinute)
        const counters: [string, number][] = [
          ['count', e.perMinute],
          ['failures', e.failuresPerMinute],
          ['b5', fast],
          ['b6', slow],
        ]
        for (const [counter, n] of counters) {
          if (n === 0) continue
          const { kind, from, to } = e
          await out.add({ _id: `old-${id++}`, minuteAt, kind, from, to, counter, n, expireAt })
        }
      }
    }
  }
  return out.end()
}

/** The read before (`graph.ts` until this layout): every count since a minute, one `$sum`. */
async function readOldLayout(collection: Collection<Document>, since: Date): Promise<number> {
  const rows = await collection
    .aggregate<{ _id: { counter: string }; n: number }>([
      { $match: { minuteAt: { $gte: since } } },
      {
        $group: {
          _id: { kind: '$kind', from: '$from', to: '$to', counter: '$counter' },
          n: { $sum: '$n' },
        },
      },
    ])
    .toArray()
  return rows.filter((r) => r._id.counter === 'count').reduce((sum, r) => sum + r.n, 0)
}

/** Up to 10 samples, fewer when each is slow (at least 3, about 10 s each). */
async function sample(read: () => Promise<void>): Promise<FlowReadLatency> {
  const times: number[] = []
  const started = performance.now()
  while (times.length < 10 && (times.length < 3 || performance.now() - started < 10_000)) {
    const t = performance.now()
    await read()
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  return { p50: times[Math.floor(times.length / 2)]!, max: times.at(-1)!, samples: times.length }
}

export function printFlowRead(result: FlowReadResult): void {
  const docs = result.documents
  const rows = result.reads.map((r) => [
    `GET /api/flow?window=${r.window}`,
    `${fmt(r.layout.p50)} (max ${fmt(r.layout.max)}, ${r.layout.samples} reads)`,
    `${fmt(r.oldLayout.p50)} (max ${fmt(r.oldLayout.max)}, ${r.oldLayout.samples} reads)`,
    `${fmt(r.oldLayout.p50 / r.layout.p50, 1)}×`,
  ])
  rows.push([
    'documents in flow_stats',
    `${fmt(docs.minutes + docs.hours)} (${fmt(docs.hours)} hours, ${fmt(docs.minutes)} minutes)`,
    fmt(docs.oldLayout),
    `${fmt(docs.oldLayout / (docs.minutes + docs.hours), 1)}×`,
  ])
  printTable(
    ['flow read, p50 ms', 'per period and edge', 'old: per minute and counter', 'faster'],
    rows,
    `The flow's read: ${result.edges} edges × ${result.instances} instances, ${result.keptHours} h kept`,
  )
}
