import { jetstream } from '@nats-io/jetstream'
import { connect, headers } from '@nats-io/transport-node'
import {
  createTestNamespace,
  eventually,
  getTestServers,
  startNatsServer,
} from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { PublishError } from '../errors.ts'
import { defineEvent } from '../event-definition.ts'
import type { Service, ServiceOptions } from '../service.ts'
import {
  captureLogs,
  createTestService,
  databaseName,
  dlqEntryIdOf,
} from '../testing/test-service.ts'
import { traceRecorder, type RecordedSpan } from '../testing/trace-recorder.ts'
import type { ServiceTracing } from './tracing.ts'
import type { EventRecord, OperationRecord } from '../store/event-store.ts'

// Spans are recorded by a real OpenTelemetry SDK (in memory) while real servers carry the events:
// the structure of a trace is checked span by span, with the ids the records store.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'tracing')
const recorder = traceRecorder()
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const services: Service[] = []
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()))
  await recorder.close()
  await mongo.close()
  await ns.cleanup()
})
beforeEach(() => recorder.clear())

const OrderPlaced = defineEvent({
  subject: 'Order.placed',
  version: 1,
  schema: z.object({ orderId: z.string() }),
})
const InvoiceSent = defineEvent({
  subject: 'Invoice.sent',
  version: 1,
  schema: z.object({ orderId: z.string() }),
})

async function service(
  name: string,
  scope: string,
  overrides: Partial<ServiceOptions> & { natsUrl?: string } = {},
) {
  const { natsUrl = servers.natsUrl, ...options } = overrides
  const svc = await createTestService(ns, { ...servers, natsUrl }, name, {
    scope,
    tracing: recorder.tracing,
    ...options,
  })
  services.push(svc)
  return svc
}

const spans = () => recorder.spans()
const named = (name: string, where: (span: RecordedSpan) => boolean = () => true) =>
  spans().filter((span) => span.name === name && where(span))
const one = (name: string, where?: (span: RecordedSpan) => boolean) => {
  const found = named(name, where)
  expect(found, `one span ${name}`).toHaveLength(1)
  return found[0]!
}
const group = (consumerGroup: string) => (span: RecordedSpan) =>
  span.attributes['messaging.consumer.group.name'] === consumerGroup

describe('one trace per operation, across handlers, retries, the relay, the DLQ and replays', () => {
  it('request → operation → publish → each group’s deliveries (a retry among them) → child event → its delivery', async () => {
    const scope = 'chain'
    const logs = captureLogs()
    const shop = await service('shop', scope, { logger: logs.logger })
    const billing = await service('billing', scope)
    shop.on(OrderPlaced, { handler: 'invoice' }, async (event, ctx) => {
      ctx.logger.info('invoicing')
      await ctx.publish(InvoiceSent, { orderId: event.data.orderId })
    })
    shop.on(OrderPlaced, { handler: 'flaky' }, async (_event, ctx) => {
      if (ctx.attempt === 1) throw new Error('stock service timed out')
    })
    const handled: string[] = []
    billing.on(InvoiceSent, { handler: 'record' }, async (event) => void handled.push(event.id))
    await Promise.all([shop.start(), billing.start()])

    // A span current where the operation starts (a gateway's request, say) is its parent.
    const request = recorder.tracing.start({ name: 'request', kind: 'server' })
    const op = await request.within(() => shop.startOperation({ name: 'orderPlace' }))
    const eventId = await op.publish(OrderPlaced, { orderId: 'o1' })
    await op.complete()
    request.end()

    await eventually(() => {
      expect(handled).toHaveLength(1)
      expect(named('process Order.placed', group('shop.flaky'))).toHaveLength(2)
      expect(named('process Invoice.sent')).toHaveLength(1)
    })
    const all = spans()
    const trace = request.traceId!
    expect(new Set(all.map((s) => s.traceId))).toEqual(new Set([trace]))

    const operation = one('operation orderPlace')
    expect(operation.parentSpanId).toBe(one('request').spanId)
    const publish = one('publish Order.placed')
    expect(publish).toMatchObject({ kind: 'producer', parentSpanId: operation.spanId })
    expect(publish.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.operation.type': 'send',
      'messaging.destination.name': `${ns.subjectPrefix}_${scope}.Order.placed`,
      'messaging.message.id': eventId,
      'event_driven.operation.id': op.id,
    })

    const invoiced = one('process Order.placed', group('shop.invoice'))
    expect(invoiced).toMatchObject({ kind: 'consumer', parentSpanId: publish.spanId })
    const invoiceRun = one('handle shop.invoice')
    expect(invoiceRun.parentSpanId).toBe(invoiced.spanId)

    const [first, second] = named('process Order.placed', group('shop.flaky')).sort(
      (a, b) =>
        Number(a.attributes['event_driven.attempt']) - Number(b.attributes['event_driven.attempt']),
    )
    expect(first).toMatchObject({ parentSpanId: publish.spanId, failed: true, events: ['retry'] })
    expect(first!.attributes['event_driven.attempt']).toBe(1)
    expect(second).toMatchObject({ parentSpanId: publish.spanId, failed: false })
    expect(second!.attributes['event_driven.attempt']).toBe(2)
    const flakyRuns = named('handle shop.flaky')
    expect(flakyRuns.map((s) => [s.parentSpanId, s.failed]).sort()).toEqual(
      [
        [first!.spanId, true],
        [second!.spanId, false],
      ].sort(),
    )
    expect(flakyRuns.find((s) => s.failed)!.events).toContain('exception')

    const child = one('publish Invoice.sent')
    expect(child.parentSpanId).toBe(invoiceRun.spanId)
    expect(one('process Invoice.sent').parentSpanId).toBe(child.spanId)
    expect(one('handle billing.record').parentSpanId).toBe(one('process Invoice.sent').spanId)

    // The records keep the contexts: a later publish (the relay) continues the same spans.
    const db = mongo.db(databaseName(ns, scope))
    const stored = await db.collection<OperationRecord>('operations').findOne({ _id: op.id })
    expect(stored?.trace?.traceparent).toBe(`00-${trace}-${operation.spanId}-01`)
    await eventually(async () => {
      const event = await db.collection<EventRecord>('events').findOne({ _id: eventId })
      expect(event?.trace?.traceparent).toBe(`00-${trace}-${publish.spanId}-01`)
    })
    // The handler's lines carry the trace.
    expect(logs.lines.find((line) => line.msg === 'invoicing')).toMatchObject({
      traceId: trace,
      operationId: op.id,
    })
  })

  it("an append's events each get a publish span, under the operation or the handler's run", async () => {
    const scope = 'streams'
    const shop = await service('shop', scope)
    const orders = shop.streams.define({ type: 'order', events: [OrderPlaced, InvoiceSent] })
    shop.on(OrderPlaced, { handler: 'bill' }, async (event, ctx) => {
      await ctx.handleCommand(orders.name(event.data.orderId), {
        initialState: () => 0,
        evolve: (count) => count + 1,
        decide: () => [{ event: InvoiceSent, data: { orderId: event.data.orderId } }],
      })
    })
    await shop.start()
    const op = await shop.startOperation({ name: 'orderPlace' })
    const { events } = await op.appendToStream(orders.name('o7'), [
      { event: OrderPlaced, data: { orderId: 'o7' } },
    ])
    await op.complete()
    // Settled: handled, moved out of the outbox (a first insert into a new database can be slow
    // enough for the relay to publish once more, a span of its own), every span ended.
    await eventually(async () => {
      expect(named('process Order.placed')).toHaveLength(1)
      expect(await shop.store.outbox.countDocuments()).toBe(0)
    })
    const first = (span: RecordedSpan) => span.attributes['event_driven.redelivery'] === undefined
    const publish = one('publish Order.placed', first)
    expect(publish).toMatchObject({
      kind: 'producer',
      parentSpanId: one('operation orderPlace').spanId,
    })
    expect(publish.attributes['messaging.message.id']).toBe(events[0]!.id)
    expect(one('process Order.placed').parentSpanId).toBe(publish.spanId)
    const child = one('publish Invoice.sent', first)
    expect(child.parentSpanId).toBe(one('handle shop.bill').spanId)
    expect(new Set(spans().map((s) => s.traceId)).size).toBe(1)
    await shop.stop() // nothing of it reaches the next test's spans
  })

  it('an event the relay published after NATS was down stays in its trace', async () => {
    const broker = await startNatsServer()
    try {
      const svc = await service('relayed', 'relay', { natsUrl: broker.url })
      const handled: string[] = []
      svc.on(OrderPlaced, { handler: 'ship' }, async (event) => void handled.push(event.id))
      await svc.start()
      const op = await svc.startOperation({ name: 'orderPlace' })
      await broker.stop()
      await expect(op.publish(OrderPlaced, { orderId: 'late' })).rejects.toBeInstanceOf(
        PublishError,
      )
      await op.complete() // MongoDB has it all: the relay publishes the event once NATS is back
      const first = one('publish Order.placed')
      expect(first).toMatchObject({
        failed: true,
        parentSpanId: one('operation orderPlace').spanId,
      })
      await broker.start()
      await eventually(() => expect(handled).toHaveLength(1), { timeoutMs: 30_000 })
      await eventually(() => expect(named('process Order.placed')).toHaveLength(1))
      const relayed = one('publish Order.placed', (s) => !s.failed)
      expect(relayed.attributes['event_driven.redelivery']).toBe('relay')
      expect(relayed.parentSpanId).toBe(first.spanId)
      const processed = one('process Order.placed')
      expect(processed).toMatchObject({ parentSpanId: relayed.spanId, traceId: first.traceId })
    } finally {
      await broker.dispose()
    }
  })

  it('a dead letter ends its delivery span; its redrive and a replay start new traces linked to the first', async () => {
    const scope = 'dlq'
    const svc = await service('orders', scope, { retry: { maxFailures: 2, baseDelayMs: 20 } })
    let failing = true
    const handled: string[] = []
    svc.on(OrderPlaced, { handler: 'audit' }, async (event) => {
      if (failing) throw new Error('audit log is full')
      handled.push(event.id)
    })
    await svc.start()
    const op = await svc.startOperation({ name: 'orderPlace' })
    const eventId = await op.publish(OrderPlaced, { orderId: 'o9' })
    const entryId = await dlqEntryIdOf(svc, eventId, 'orders.audit')
    await eventually(() => expect(named('process Order.placed')).toHaveLength(2))
    const publish = one('publish Order.placed')
    const last = one('process Order.placed', (s) => s.attributes['event_driven.attempt'] === 2)
    expect(last).toMatchObject({ failed: true, events: ['dead_letter'] })
    const original = `${publish.traceId}-${publish.spanId}`

    failing = false
    recorder.clear()
    expect(await svc.dlq.redrive(entryId, 'test')).toMatchObject({ ok: true })
    await eventually(() => expect(handled).toEqual([eventId]))
    await eventually(() => expect(named('process Order.placed')).toHaveLength(1))
    const redrive = one('redrive orders.audit')
    expect(redrive).toMatchObject({ kind: 'producer', links: [original] })
    expect(redrive.parentSpanId).toBeUndefined()
    expect(redrive.traceId).not.toBe(publish.traceId)
    expect(one('process Order.placed')).toMatchObject({
      traceId: redrive.traceId,
      parentSpanId: redrive.spanId,
      links: [original],
    })

    recorder.clear()
    const replay = await svc.replay({ to: 'orders.audit', select: { operationId: op.id } })
    expect(replay.delivered).toBe(1)
    await eventually(() => expect(handled).toHaveLength(2))
    await eventually(() => expect(named('process Order.placed')).toHaveLength(1))
    const replaySpan = one('replay orders.audit')
    expect(replaySpan.attributes['event_driven.replay.id']).toBe(replay.replayId)
    expect(one('process Order.placed')).toMatchObject({
      traceId: replaySpan.traceId,
      parentSpanId: replaySpan.spanId,
      links: [original],
    })
  })

  it('a tracer that throws changes nothing: every event handled once, logged once', async () => {
    const logs = captureLogs()
    const broken: ServiceTracing = {
      start: (start) => {
        if (start.kind === 'producer') throw new Error('tracer broke')
        const span = recorder.tracing.start(start)
        return {
          ...span,
          within: (fn) => span.within(fn),
          event: () => {
            throw new Error('tracer broke')
          },
          setAttributes: () => undefined,
          end: () => {
            throw new Error('tracer broke')
          },
        }
      },
    }
    const svc = await service('broken', 'broken', { tracing: broken, logger: logs.logger })
    const handled: string[] = []
    svc.on(OrderPlaced, { handler: 'ship' }, async (event) => void handled.push(event.id))
    await svc.start()
    const op = await svc.startOperation({ name: 'orderPlace' })
    for (let i = 0; i < 3; i++) await op.publish(OrderPlaced, { orderId: `b${i}` })
    await op.complete()
    await eventually(() => expect(handled).toHaveLength(3))
    await eventually(async () => {
      const [group] = await svc.consumerGroups()
      expect(group).toMatchObject({ pending: 0, inFlight: 0 })
    })
    expect(new Set(handled).size).toBe(3)
    expect(logs.messages().filter((m) => m.includes('the tracer threw'))).toHaveLength(1)
  })

  it('a message whose trace headers are not a valid trace context starts a trace of its own', async () => {
    const scope = 'hostile'
    const svc = await service('hostile', scope)
    const seen: string[] = []
    svc.on(OrderPlaced, { handler: 'read' }, async (event) => void seen.push(event.id))
    await svc.start()
    const nc = await connect({ servers: servers.natsUrl })
    try {
      const js = jetstream(nc)
      const forged = [
        '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // all-zero trace id
        '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // all-zero span id
        'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // version ff
        '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01', // upper case
        `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01 ${'x'.repeat(4000)}`,
      ]
      for (const [i, traceparent] of forged.entries()) {
        const h = headers()
        h.set('traceparent', traceparent)
        h.set('tracestate', 'a=b,'.repeat(200))
        await js.publish(
          `${ns.subjectPrefix}_${scope}.Order.placed`,
          JSON.stringify({ orderId: `f${i}` }),
          { headers: h },
        )
      }
      await eventually(() => expect(named('process Order.placed')).toHaveLength(forged.length))
      for (const span of named('process Order.placed')) {
        expect(span.parentSpanId).toBeUndefined()
        expect(span.links).toEqual([])
      }
    } finally {
      await nc.close()
    }
  })
})
