import { randomUUID } from 'node:crypto'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, headers, type MsgHdrs } from '@nats-io/transport-node'
import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import { newId } from '../ids.ts'
import type { Service } from '../service.ts'
import type { EventRecord } from '../store/event-store.ts'
import { captureLogs, createTestService, fastTestOptions } from '../testing/test-service.ts'

// Messages that are not the framework's own are never handled as new: a recorded event id sent
// again with other data, a real message's signature on other content, a forged lineage. The
// framework's own repeats are handled as usual: a relay republish, a retried handler's children,
// and a verbatim copy past JetStream's duplicate window is acknowledged by the ledger.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'forged')
const scope = 'forged'
const duplicateWindowMs = 1_000
const { name: streamName, subjectPrefix } = fastTestOptions(ns, scope).stream!
const stream = { name: streamName!, subjectPrefix: subjectPrefix!, duplicateWindowMs }
const nc = await connect({ servers: servers.natsUrl })
const js = jetstream(nc)
const jsm = await jetstreamManager(nc)

const OrderPaid = defineEvent({
  subject: 'Order.paid',
  version: 1,
  schema: z.object({ orderId: z.string(), amount: z.number() }),
})
const BatchClosed = defineEvent({
  subject: 'Batch.closed',
  version: 1,
  schema: z.object({ batchId: z.string() }),
})

let audit: Service
let splitter: Service
const splitterLogs = captureLogs('warn')
const recorded: { id: string; data: { orderId: string; amount: number } }[] = []
beforeAll(async () => {
  audit = await createTestService(ns, servers, 'audit', { scope, stream })
  audit.on(OrderPaid, { handler: 'record' }, async (event) => {
    recorded.push({ id: event.id, data: event.data })
  })
  // Its retry comes after the duplicate window, so a re-emitted child reaches JetStream again.
  splitter = await createTestService(ns, servers, 'splitter', {
    scope,
    stream,
    retry: { baseDelayMs: 3_000, maxDelayMs: 3_000 }, // 1.5 to 3 s: past the window
    logger: splitterLogs.logger,
  })
  splitter.on(BatchClosed, { handler: 'split' }, async (event, ctx) => {
    // Not deterministic on purpose: the amount differs from one attempt to the next.
    await ctx.publish(OrderPaid, { orderId: `${event.data.batchId}-1`, amount: ctx.attempt })
    if (ctx.attempt === 1) throw new Error('the ledger service timed out')
  })
  await audit.start()
  await splitter.start()
})
afterAll(async () => {
  await audit.stop()
  await splitter.stop()
  await nc.close()
  await ns.cleanup()
})

const subject = `${stream.subjectPrefix}.Order.paid`

/** Every message JetStream stored for an event: headers (signature included) and body. */
async function storedMessages(eventId: string) {
  const info = await jsm.streams.info(stream.name)
  const found = []
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const stored = await jsm.streams.getMessage(stream.name, { seq }).catch(() => null)
    if (stored?.header.get('Event-Id') === eventId) found.push(stored)
  }
  return found
}

async function storedMessage(eventId: string) {
  const [first] = await storedMessages(eventId)
  if (!first) throw new Error(`no message for ${eventId}`)
  return first
}

function copyHeaders(from: MsgHdrs, change: Record<string, string> = {}): MsgHdrs {
  const h = headers()
  for (const [name, values] of from) for (const value of values) h.append(name, value)
  for (const [name, value] of Object.entries(change)) h.set(name, value)
  return h
}

async function payOrder(orderId: string) {
  const op = await audit.startOperation({ name: 'orderPay' })
  const eventId = await op.publish(OrderPaid, { orderId, amount: 10 })
  await eventually(() => expect(recorded.map((r) => r.id)).toContain(eventId))
  return { eventId, operationId: op.id }
}

async function refusedEntry(eventId: string, count: number) {
  return eventually(async () => {
    const { entries } = await audit.dlq.list({ eventId }, { limit: 10 })
    expect(entries).toHaveLength(count)
    return entries
  })
}

const handledTimes = (eventId: string) => recorded.filter((r) => r.id === eventId).length

describe('messages from outside the framework', () => {
  it('a recorded event id sent again with other data and no signature is refused into the DLQ', async () => {
    const { eventId } = await payOrder('o1')
    const h = headers()
    h.set('Event-Id', eventId)
    h.set('Event-Created-At', new Date().toISOString())
    await js.publish(subject, JSON.stringify({ orderId: 'o1', amount: 1_000_000 }), {
      msgID: randomUUID(),
      headers: h,
    })
    const [entry] = await refusedEntry(eventId, 1)
    expect(entry).toMatchObject({
      trusted: false,
      consumerGroup: 'audit.record',
      reason: expect.stringMatching(
        /^the message has no Event-Signature: it was not published by the framework/,
      ) as string,
      payload: JSON.stringify({ orderId: 'o1', amount: 1_000_000 }),
    })
    expect(handledTimes(eventId)).toBe(1)
    expect(recorded.find((r) => r.id === eventId)?.data.amount).toBe(10)
    expect(await audit.dlq.redrive(entry!._id, 'ops')).toMatchObject({
      ok: false,
      code: 'untrusted',
      reason: expect.stringContaining('not signed by the framework') as string,
    })
  })

  it("a real message's signature on other data, or on another lineage, is refused", async () => {
    const { eventId } = await payOrder('o2')
    const real = await storedMessage(eventId)
    // Same headers and signature, other data.
    await js.publish(subject, JSON.stringify({ orderId: 'o2', amount: 0 }), {
      headers: copyHeaders(real.header, { 'Nats-Msg-Id': randomUUID() }),
    })
    // Same data and signature, claimed to belong to another operation.
    await js.publish(subject, real.data, {
      headers: copyHeaders(real.header, { 'Nats-Msg-Id': randomUUID(), 'Operation-Id': newId() }),
    })
    const entries = await refusedEntry(eventId, 2)
    for (const entry of entries)
      expect(entry).toMatchObject({
        trusted: false,
        reason: expect.stringMatching(
          /^the message's Event-Signature does not match its content/,
        ) as string,
      })
    expect(handledTimes(eventId)).toBe(1)
  })

  it('a verbatim copy is dropped within the duplicate window, and acknowledged by the ledger after it', async () => {
    const { eventId } = await payOrder('o3')
    const real = await storedMessage(eventId)
    const within = await js.publish(subject, real.data, { headers: copyHeaders(real.header) })
    expect(within.duplicate).toBe(true)

    const publishedAt = new Date(real.time).getTime()
    await eventually(
      () => expect(Date.now()).toBeGreaterThan(publishedAt + duplicateWindowMs + 200),
      {
        timeoutMs: 5_000,
      },
    )
    const after = await js.publish(subject, real.data, { headers: copyHeaders(real.header) })
    expect(after.duplicate).toBe(false)
    await eventually(async () => {
      const group = await jsm.consumers.info(stream.name, 'audit_record')
      expect(group.delivered.stream_seq).toBeGreaterThanOrEqual(after.seq)
      expect(group.num_ack_pending + group.num_pending).toBe(0)
    })
    expect(handledTimes(eventId)).toBe(1)
    expect((await audit.dlq.list({ eventId })).entries).toEqual([])
  })
})

describe("the framework's own repeats", () => {
  it('an event the relay publishes (left in the outbox by a crash) is handled once, not refused', async () => {
    const op = await audit.startOperation({ name: 'orderPay' })
    const record: EventRecord = {
      _id: newId(),
      subject: 'Order.paid',
      version: 1,
      data: { orderId: 'o4', amount: 4 },
      operationId: op.id,
      parentId: op.id,
      publishedBy: { service: 'audit' },
      createdAt: new Date(Date.now() - 1_000),
    }
    await audit.store.outbox.insertOne(record)
    await eventually(() => expect(handledTimes(record._id)).toBe(1))
    await eventually(async () =>
      expect(await audit.store.outbox.countDocuments({ _id: record._id })).toBe(0),
    )
    expect((await audit.dlq.list({ eventId: record._id })).entries).toEqual([])
  })

  it("a retried handler's child is published with the content recorded first, and handled once", async () => {
    const op = await splitter.startOperation({ name: 'batchClose' })
    await op.publish(BatchClosed, { batchId: 'b1' })
    await eventually(
      () =>
        expect(splitterLogs.messages()).toContainEqual(
          expect.stringContaining('a retried handler emitted different data'),
        ),
      { timeoutMs: 15_000 },
    )
    const children = recorded.filter((r) => r.data.orderId === 'b1-1')
    expect(children).toHaveLength(1)
    expect(children[0]!.data.amount).toBe(1)
    const stored = await splitter.store.events.findOne({ _id: children[0]!.id })
    expect(stored?.data).toEqual({ orderId: 'b1-1', amount: 1 })
    // Both copies in the stream (the first publish, and the retry's after the window) agree.
    const copies = await storedMessages(children[0]!.id)
    expect(copies).toHaveLength(2)
    for (const copy of copies) expect(copy.json()).toEqual({ orderId: 'b1-1', amount: 1 })
    // The republish (after the window) reached the group, which acknowledged it by its ledger.
    await eventually(async () => {
      const group = await jsm.consumers.info(stream.name, 'audit_record')
      expect(group.num_ack_pending + group.num_pending).toBe(0)
    })
    expect(recorded.filter((r) => r.data.orderId === 'b1-1')).toHaveLength(1)
    expect(
      (await audit.dlq.list({ consumerGroup: 'audit.record', status: 'open' })).entries.filter(
        (e) => e.trusted,
      ),
    ).toEqual([])
  })
})
