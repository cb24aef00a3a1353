import { randomUUID } from 'node:crypto'
import { jetstream, type JetStreamClient } from '@nats-io/jetstream'
import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node'
import { createTestNamespace, eventually, getTestServers, rawPublish } from '@event-driven/testing'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import type { Service } from '../service.ts'
import { deliveryKey } from '../store/keys.ts'
import { createTestService } from '../testing/test-service.ts'
import { signedPublisher } from '../publish/signature.ts'

// Guarantee 11, tried with messages of any content: every delivered message ends in exactly one
// place — handled (in the ledger) or one open DLQ entry holding its exact bytes and headers.
// Runs: DLQ_PROPERTY_RUNS (default 50 batches of up to 16 messages); replay one with FC_SEED.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'any message')
const consumerGroup = 'sink.take'

const BlobArrived = defineEvent({
  subject: 'Blob.arrived',
  version: 1,
  schema: z.object({ outcome: z.enum(['ok', 'fail']), value: z.unknown() }),
})

let service: Service
let nc: NatsConnection
let js: JetStreamClient
let publishSigned: Awaited<ReturnType<typeof signedPublisher>>
beforeAll(async () => {
  service = await createTestService(ns, servers, 'sink', {
    retry: { maxFailures: 2, baseDelayMs: 20, maxDelayMs: 50 },
  })
  service.on(BlobArrived, { handler: 'take', concurrency: 16 }, async (event) => {
    if (event.data.outcome === 'fail') throw new Error('the blob store refuses it')
  })
  await service.start()
  nc = await connect({ servers: servers.natsUrl })
  js = jetstream(nc)
  publishSigned = await signedPublisher(service.store, js)
})
afterAll(async () => {
  await service.stop()
  await nc.close()
  await ns.cleanup()
})

/** No lone surrogate: text that UTF-8 can carry as it is. */
const wellFormed = (text: string) => !/\p{Surrogate}/u.test(text)

/** Names the framework reads, or JetStream acts on: a random header must not be one of them. */
const reserved = /^(nats-|event-|operation-id$|parent-id$|replay-id$|dlq-)/i

/** A header value as NATS carries it: no CR/LF, no surrounding blanks (nats.js trims them). */
const headerValue = fc
  .oneof(
    { weight: 8, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 3_000, maxLength: 4_096 }) },
    { weight: 1, arbitrary: fc.constantFrom('2.3', '$set', '\u0000', 'a.b.c', 'é😀') },
  )
  .map((v) => v.replace(/[\r\n]/g, ' ').trim())
  .filter(wellFormed)

const headerName = fc
  .oneof(
    fc.stringMatching(/^[!-9;-~]{1,30}$/),
    fc.constantFrom('app.version', '$where', 'x.y', '$', 'a$b.c'),
  )
  .filter((name) => !reserved.test(name))

const eventIdPart = fc
  .oneof(
    fc.uuid(),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
    fc.string({ minLength: 300, maxLength: 5_000 }),
    fc.constantFrom('a b', '../x', '$id', 'x\u0000y', '%2F'),
  )
  .map((v) => v.replace(/[\r\n]/g, ' '))
  .filter(wellFormed)

/** Any name a raw client can put on a header line: unicode, spaces, dots, dollars. */
const rawHeaderName = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 20 })
  .map((v) => v.replace(/[\r\n:]/g, '_').trim())
  .filter((v) => v.length > 0 && wellFormed(v) && !reserved.test(v))

type Kind = 'event' | 'bytes' | 'big'
const message = fc.record({
  signed: fc.boolean(),
  // Sent over a raw connection, with header names no NATS client library would send.
  raw: fc.oneof(
    { weight: 4, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
  rawHeaders: fc.array(fc.tuple(rawHeaderName, headerValue), { minLength: 1, maxLength: 4 }),
  kind: fc.oneof(
    { weight: 6, arbitrary: fc.constant<Kind>('event') },
    { weight: 4, arbitrary: fc.constant<Kind>('bytes') },
    { weight: 1, arbitrary: fc.constant<Kind>('big') },
  ),
  outcome: fc.constantFrom<'ok' | 'fail'>('ok', 'fail'),
  value: fc.jsonValue({ maxDepth: 2 }),
  bytes: fc.uint8Array({ maxLength: 2_000 }),
  bigSize: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 10_000, max: 200_000 }) },
    { weight: 1, arbitrary: fc.constant(Number.MAX_SAFE_INTEGER) }, // up to the max payload
  ),
  eventId: eventIdPart,
  headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }),
})
type Message = typeof message extends fc.Arbitrary<infer T> ? T : never

let counter = 0
interface Sent {
  eventId: string
  /** The stream position (unknown for a raw publish, which is found by its plain event id). */
  seq?: number
  body: Uint8Array
  block: Uint8Array
  expect: 'processed' | 'dlq-trusted' | 'dlq-untrusted'
}

/** A raw client's message: its own header block, never signed. */
async function sendRaw(m: Message): Promise<Sent> {
  const eventId = `raw-${++counter}`
  const lines = [['Event-Id', eventId], ...m.rawHeaders].map(([n, v]) => `${n}: ${v}\r\n`)
  const block = Buffer.from(`NATS/1.0\r\n${lines.join('')}\r\n`, 'utf8')
  const subject = `${ns.subjectPrefix}.Blob.arrived`
  await rawPublish(servers.natsUrl, [{ subject, headerBlock: block, body: m.bytes }])
  return { eventId, body: m.bytes, block, expect: 'dlq-untrusted' }
}

async function send(m: Message): Promise<Sent> {
  if (m.raw) return sendRaw(m)
  // A unique tail keeps ids of any shape apart across cases, so each case's outcome is its own.
  const eventId = `${m.eventId.trim() || 'id'}~${++counter}`
  const maxBody = nc.info!.max_payload - 64 * 1024 // room for headers
  const body =
    m.kind === 'bytes'
      ? m.bytes
      : Buffer.from(
          JSON.stringify({
            outcome: m.outcome,
            value: m.kind === 'big' ? 'x'.repeat(Math.min(m.bigSize, maxBody)) : m.value,
          }),
        )
  const h: MsgHdrs = headers()
  for (const [name, value] of m.headers) h.append(name, value)
  h.set('Event-Id', eventId)
  h.set('Event-Created-At', new Date().toISOString())
  const options = { msgID: randomUUID(), headers: h }
  const subject = `${ns.subjectPrefix}.Blob.arrived`
  const ack = m.signed
    ? await publishSigned(subject, body, options)
    : await js.publish(subject, body, options)
  const expected: Sent['expect'] = !m.signed
    ? 'dlq-untrusted'
    : m.kind !== 'bytes' && m.outcome === 'ok'
      ? 'processed'
      : 'dlq-trusted'
  // What was sent, byte for byte: the header block as nats.js encoded it (msg id included).
  const block = (h as unknown as { encode(): Uint8Array }).encode()
  return { eventId, seq: ack.seq, body, block, expect: expected }
}

/** The consumer group has nothing pending or in flight: every message reached an outcome. */
async function idle() {
  const durable = 'sink_take'
  const info = await (await js.jetstreamManager()).consumers.info(service.stream.name, durable)
  expect(info.num_pending + info.num_ack_pending).toBe(0)
}

async function settledIn(sent: Sent[]) {
  const raw = sent.filter((s) => s.seq === undefined).map((s) => s.eventId)
  const entries = [
    ...(await service.store.dlq
      .find({ streamSequence: { $in: sent.flatMap((s) => (s.seq === undefined ? [] : [s.seq])) } })
      .toArray()),
    ...(raw.length ? await service.store.dlq.find({ eventId: { $in: raw } }).toArray() : []),
  ]
  const processed = await service.store.processed
    .find({ _id: { $in: sent.map((s) => deliveryKey(s.eventId, consumerGroup)) } })
    .toArray()
  const handled = new Set(processed.map((p) => p._id))
  for (const s of sent) {
    const mine = entries.filter((e) =>
      s.seq === undefined ? e.eventId === s.eventId : e.streamSequence === s.seq,
    )
    const inLedger = handled.has(deliveryKey(s.eventId, consumerGroup))
    if (s.expect === 'processed') {
      expect(inLedger).toBe(true)
      expect(mine).toEqual([])
      continue
    }
    expect(mine).toHaveLength(1)
    expect(inLedger).toBe(false)
    const [entry] = mine
    expect(entry!.status).toBe('open')
    expect(entry!.trusted).toBe(s.expect === 'dlq-trusted')
    expect(Buffer.from(entry!.payload.buffer).equals(Buffer.from(s.body))).toBe(true)
    expect(Buffer.from(entry!.headers.buffer).equals(Buffer.from(s.block))).toBe(true)
  }
}

describe('a failure always lands, whatever the message holds', () => {
  it('each message ends handled, or in one open DLQ entry with its exact bytes and headers', async () => {
    const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31)
    const numRuns = Number(process.env.DLQ_PROPERTY_RUNS ?? 50)
    console.log(`fast-check seed ${seed} (replay with FC_SEED=${seed}), ${numRuns} runs`)
    let total = 0
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 16 }), async (batch) => {
        const sent = await Promise.all(batch.map(send))
        total += sent.length
        await eventually(idle, { timeoutMs: 30_000 })
        await eventually(() => settledIn(sent), { timeoutMs: 10_000, intervalMs: 200 })
      }),
      { seed, numRuns, endOnFailure: true },
    )
    // Nothing else in the DLQ: no entry was written twice, none overwritten.
    const all = await service.store.dlq.countDocuments()
    const processed = await service.store.processed.countDocuments()
    expect(all + processed).toBe(total)
    console.log(`${total} messages: ${all} DLQ entries, ${processed} handled`)
  }, 600_000)
})
