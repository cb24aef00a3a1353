import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import {
  createArchiver,
  ensureIndexes,
  listOperations,
  openEventStore,
  operationChain,
  productIndexes,
  sweepExpired,
  type EventStoreTools,
} from '@event-driven/core/admin'
import { pino } from 'pino'
import type { BenchContext } from './context.ts'
import { writeHistory, type HistoryWritten } from './history.ts'
import type { BenchS3 } from './servers.ts'

/** One read's latency over its samples. */
export interface ReadLatency {
  p50: number
  p95: number
  samples: number
}

export interface ReadsResult {
  /** `1k`, `100k`, or `1k after 100k aged out`. */
  label: string
  /** Events written in all, the aged-out history included. */
  eventsWritten: number
  /** Documents in each collection when the reads were measured. */
  sizes: Record<string, number>
  /** How long writing, archiving and removing the history took (s). */
  setupSeconds: Record<string, number>
  reads: Record<'chain' | 'operationsPage' | 'search' | 'dlqList', ReadLatency>
}

const dayMs = 86_400_000
const collections = [
  'operations',
  'events',
  'outbox',
  'processed',
  'failures',
  'dlq',
  'operation_ends',
]

/**
 * The product's reads on a history of `events` events: `operation(id)`'s chain for operations
 * of the newest tenth, the operations page, a search by actor, the open DLQ entries. With
 * `agedOut`, that much older history is written first and aged through the real retention path
 * (archived to S3, then removed by the sweeper), so the reads show what history costs them.
 */
export async function measureReads(
  ctx: BenchContext,
  s3: BenchS3,
  options: { events: number; agedOut?: number; label: string; log: (line: string) => void },
): Promise<ReadsResult> {
  const names = ctx.scope('reads')
  const tools = await openEventStore({
    mongodb: ctx.mongodbUrl,
    database: names.database,
    nats: ctx.natsUrl,
    stream: { name: names.stream, subjectPrefix: names.subjectPrefix },
  })
  const { store } = tools
  const setupSeconds: Record<string, number> = {}
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now()
    const result = await work()
    setupSeconds[name] = (performance.now() - started) / 1000
    return result
  }
  try {
    await ensureIndexes(store, productIndexes)
    const now = Date.now()
    if (options.agedOut) {
      const aged = options.agedOut
      options.log(`reads ${options.label}: ${aged} events of older history, archived, then removed`)
      await timed('write aged history', () =>
        writeHistory(store, {
          events: aged,
          endsAt: new Date(now - 2 * dayMs),
          spanMs: dayMs,
          expireAt: new Date(now - dayMs),
        }),
      )
      await timed('archive to S3', () => archiveAll(store, s3, names.database))
      await timed('remove (sweeper)', () => sweepExpired(store, { archiving: true }))
    }
    const history = await timed('write history', () =>
      writeHistory(store, { events: options.events, endsAt: new Date(now), spanMs: dayMs / 24 }),
    )
    const sizes = await collectionSizes(store)
    options.log(`reads ${options.label}: ${JSON.stringify(sizes)}`)
    const reads = await readLatencies(tools, history)
    return {
      label: options.label,
      eventsWritten: options.events + (options.agedOut ?? 0),
      sizes,
      setupSeconds,
      reads,
    }
  } finally {
    await tools.close()
  }
}

async function readLatencies(tools: EventStoreTools, history: HistoryWritten) {
  const { store } = tools
  let n = 0
  const pick = () => history.recent[n++ % history.recent.length]!
  return {
    chain: await sample(async () => {
      const chain = await operationChain(store, pick().id)
      if (chain?.events.length !== 3) throw new Error('the chain read missed events')
    }),
    operationsPage: await sample(async () => {
      const page = await listOperations(store, { limit: 50 })
      if (page.operations.length !== Math.min(50, history.operations))
        throw new Error('the operations page came back short')
    }),
    search: await sample(async () => {
      const page = await listOperations(store, { search: pick().actor, limit: 50 })
      if (page.operations.length === 0) throw new Error('the search found nothing')
    }),
    dlqList: await sample(async () => {
      await tools.dlq.list({ status: 'open' }, { limit: 50 })
    }),
  }
}

/** Up to 20 samples, fewer when each is slow (at least 3): p50 and p95 in ms. */
async function sample(read: () => Promise<void>): Promise<ReadLatency> {
  const times: number[] = []
  const started = performance.now()
  while (times.length < 20 && (times.length < 3 || performance.now() - started < 8_000)) {
    const t = performance.now()
    await read()
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!
  return { p50: at(0.5), p95: at(0.95), samples: times.length }
}

async function collectionSizes(store: EventStoreTools['store']): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {}
  // Counted, not `collStats`: FerretDB's count there is PostgreSQL's estimate.
  for (const name of collections) sizes[name] = await store.db.collection(name).countDocuments()
  return sizes
}

/** The archiver's real passes, until nothing is left to copy: every event and operation in S3. */
async function archiveAll(store: EventStoreTools['store'], s3: BenchS3, bucket: string) {
  const client = new S3Client({
    endpoint: s3.url,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    forcePathStyle: true,
  })
  const name = bucket.toLowerCase().replaceAll('_', '-')
  await client.send(new CreateBucketCommand({ Bucket: name }))
  const archiver = createArchiver({
    store,
    archive: { bucket: name, s3: client, batchSize: 5_000, settleMs: 0 },
    keep: { eventsMs: 0, operationsMs: 0 },
    logger: pino({ level: 'warn' }),
  })
  while ((await archiver.runOnce()).archived > 0);
  client.destroy()
}

/**
 * The reads table: p50 (and p95) ms of each read per history, every collection's size, and the
 * ratio of each read to the 1k history's (the target: within 2× once history is aged out).
 */
export function printReads(results: ReadsResult[]): void {
  const base = results[0]!
  const kinds = ['chain', 'operationsPage', 'search', 'dlqList'] as const
  const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 })
  const rows = results.map((r) => [
    r.label,
    ...kinds.map(
      (k) =>
        `${fmt(r.reads[k].p50)} / ${fmt(r.reads[k].p95)} (${(r.reads[k].p50 / base.reads[k].p50).toFixed(1)}×)`,
    ),
    `ev ${r.sizes.events} · led ${r.sizes.processed} · ops ${r.sizes.operations} · dlq ${r.sizes.dlq}`,
  ])
  const header = [
    'history',
    'chain p50/p95 ms',
    'operations page',
    'search by actor',
    'DLQ list',
    'collection sizes',
  ]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')
  console.log(
    `\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`,
  )
  const aged = results.at(-1)!
  for (const k of kinds) {
    const ratio = aged.reads[k].p50 / base.reads[k].p50
    console.log(
      `${ratio <= 2 ? 'met   ' : 'missed'}  ${k}, ${aged.label} vs 1k: ${ratio.toFixed(2)}× (target ≤ 2)`,
    )
  }
  const chain100k = results.find((r) => r.label === '100k')
  if (chain100k) {
    const p50 = chain100k.reads.chain.p50
    console.log(
      `${p50 <= 100 ? 'met   ' : 'missed'}  chain p50 at 100k events: ${fmt(p50)} ms (target ≤ 100)`,
    )
  }
}
