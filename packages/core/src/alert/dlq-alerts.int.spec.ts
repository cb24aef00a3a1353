import {
  createTestNamespace,
  eventually,
  getTestServers,
  startSlackReceiver,
  type SlackReceiver,
  rawPublish,
} from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import { sweepExpired } from '../retention/retention.ts'
import type { Service } from '../service.ts'
import { eventStore } from '../store/event-store.ts'
import { createTestService, databaseName } from '../testing/test-service.ts'
import { alertClaimKeepMs, alertCollections, type AlertOptions } from './dlq-alerts.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'alerts')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const services: Service[] = []
let slack: SlackReceiver
beforeEach(async () => {
  slack = await startSlackReceiver()
})
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()))
  await slack?.close()
  await mongo.close()
  await ns.cleanup()
})

const PaymentFailed = defineEvent({
  subject: 'Payment.failed',
  version: 1,
  schema: z.object({ n: z.number() }),
})

async function failingService(scope: string, alerts: Partial<AlertOptions> = {}) {
  const service = await createTestService(ns, servers, 'payments', {
    scope,
    alerts: {
      slackWebhookUrl: slack.url,
      windowMs: 3_000,
      checkIntervalMs: 100,
      retryBaseMs: 50,
      leaseMs: 10_000,
      ...alerts,
    },
  })
  service.on(PaymentFailed, { handler: 'notify', concurrency: 32 }, async () => {
    throw new Error('mail server refused the message')
  })
  services.push(service)
  return service
}

async function burst(service: Service, count: number) {
  const op = await service.startOperation({ name: 'burst' })
  await Promise.all(Array.from({ length: count }, (_, n) => op.publish(PaymentFailed, { n })))
}

/** Waits until every pending alert of the scope was sent, so the count of POSTs is final. */
/**
 * Waits until no alert of `scope` waits to be sent. An entry's alert is recorded just after the
 * entry itself, so wait for what the test expects to be sent first, then call this.
 */
async function allSent(scope: string) {
  const { pending } = alertCollections(eventStore(mongo.db(databaseName(ns, scope))))
  await eventually(async () => expect(await pending.countDocuments()).toBe(0), {
    timeoutMs: 30_000,
    intervalMs: 100,
  })
}

function textOf(body: unknown): string {
  return JSON.stringify(body)
}

describe('Slack alerts for the dead letter queue', () => {
  it('a burst of 20 DLQ entries makes exactly one message with the counts; a later burst makes another', async () => {
    const service = await failingService('burst', { dashboardUrl: 'https://ops.example/admin/' })
    await service.start()
    await burst(service, 20)
    await eventually(
      async () => expect((await service.dlq.list({}, { limit: 500 })).entries).toHaveLength(20),
      { timeoutMs: 20_000 },
    )
    await eventually(() => expect(slack.delivered).toHaveLength(1), { timeoutMs: 30_000 })
    await allSent('burst')
    expect(slack.delivered).toHaveLength(1)
    const message = slack.delivered[0]!.body as { text: string; blocks: unknown[] }
    expect(message.text).toBe('20 events moved to the dead letter queue')
    expect(textOf(message.blocks)).toContain(
      '*payments* · consumer group `payments.notify` · `Payment.failed`: *20* entries',
    )
    expect(textOf(message.blocks)).toContain('mail server refused the message')
    expect(textOf(message.blocks)).toContain(
      'event-driven dlq redrive --consumer-group payments.notify',
    )
    // The dashboard routes by its hash: the link opens the DLQ page filtered to this group and
    // subject (`&` escaped as Slack's mrkdwn wants it).
    expect(textOf(message.blocks)).toContain(
      '<https://ops.example/admin/#/dlq?consumerGroup=payments.notify&amp;subject=Payment.failed|open in the dashboard>',
    )

    await burst(service, 3)
    await eventually(() => expect(slack.delivered).toHaveLength(2), { timeoutMs: 20_000 })
    await allSent('burst')
    expect((slack.delivered[1]!.body as { text: string }).text).toBe(
      '3 events moved to the dead letter queue',
    )
  })

  it('two instances and one burst: one message', async () => {
    const first = await failingService('twice')
    const second = await failingService('twice')
    await first.start()
    await second.start()
    await burst(first, 10)
    await eventually(async () => expect((await first.dlq.list()).entries).toHaveLength(10), {
      timeoutMs: 20_000,
    })
    await eventually(() => expect(slack.delivered).toHaveLength(1), { timeoutMs: 30_000 })
    await allSent('twice')
    expect(slack.delivered).toHaveLength(1)
    expect((slack.delivered[0]!.body as { text: string }).text).toBe(
      '10 events moved to the dead letter queue',
    )
  })

  it('a message from outside whose ids hold control characters still raises its alert', async () => {
    const service = await failingService('hostile')
    await service.start()
    // Unsigned, so refused into the DLQ at once; its subject and id hold a NUL, which FerretDB
    // refuses to store: the entry and its alert keep labels of them, never the raw text.
    await rawPublish(servers.natsUrl, [
      {
        subject: `${service.stream.subjectPrefix}.Payment.failed`,
        headerBlock: Buffer.from(
          'NATS/1.0\r\nEvent-Id: forged\u0000id\r\nEvent-Subject: Payment.failed\u0000\u0007\r\n\r\n',
        ),
        body: Buffer.from('{"n":1}'),
      },
    ])
    await eventually(async () => expect((await service.dlq.list()).entries).toHaveLength(1), {
      timeoutMs: 20_000,
    })
    await eventually(() => expect(slack.delivered).toHaveLength(1), { timeoutMs: 30_000 })
    await allSent('hostile')
    expect(slack.delivered).toHaveLength(1)
    expect(textOf(slack.delivered[0]!.body)).toContain('Payment.failed\uFFFD\uFFFD')
  })

  it('a webhook that answers 500 twice, then 200, still gets the alert', async () => {
    const service = await failingService('flaky')
    slack.failNext(2)
    await service.start()
    await burst(service, 1)
    await eventually(async () => expect((await service.dlq.list()).entries).toHaveLength(1), {
      timeoutMs: 20_000,
    })
    await eventually(() => expect(slack.delivered).toHaveLength(1), { timeoutMs: 30_000 })
    await allSent('flaky')
    expect(slack.posts.map((p) => p.status)).toEqual([500, 500, 200])
  })

  it('an alert pending when its sender stops is sent after the restart', async () => {
    slack.failNext(1_000) // Slack is down while the first instance runs
    const before = await failingService('restart', { leaseMs: 1_000 })
    await before.start()
    await burst(before, 2)
    await eventually(async () => expect((await before.dlq.list()).entries).toHaveLength(2), {
      timeoutMs: 20_000,
    })
    await eventually(() => expect(slack.posts.length).toBeGreaterThan(0), { timeoutMs: 20_000 })
    await before.stop()
    expect(slack.delivered).toHaveLength(0)

    slack.failNext(0)
    const after = await failingService('restart', { leaseMs: 1_000 })
    await after.start()
    await allSent('restart')
    expect(slack.delivered).toHaveLength(1)
    expect((slack.delivered[0]!.body as { text: string }).text).toBe(
      '2 events moved to the dead letter queue',
    )
  })

  it('claims expire with retention; a batch whose first claim is gone is still claimed and sent', async () => {
    const store = eventStore(mongo.db(databaseName(ns, 'expired-claims')))
    const { pending, claims } = alertCollections(store)
    const longAgo = new Date(Date.now() - alertClaimKeepMs - 60_000)
    // Slack was down for a week: claim #1 expired and retention removed it, #2's lease ran out.
    await pending.insertOne({
      _id: 'entry-1#1',
      service: 'payments',
      consumerGroup: 'payments.notify',
      subject: 'Payment.failed',
      error: 'mail server refused the message',
      createdAt: longAgo,
    })
    await claims.insertMany([
      { _id: 'entry-1#1#1', batch: 'entry-1#1', claimedAt: longAgo, expireAt: new Date(0) },
      {
        _id: 'entry-1#1#2',
        batch: 'entry-1#1',
        claimedAt: longAgo,
        expireAt: new Date(Date.now() + 60_000),
      },
    ])
    expect(await sweepExpired(store, { archiving: true })).toBe(1)
    expect(await claims.find().toArray()).toMatchObject([{ _id: 'entry-1#1#2' }])

    await (await failingService('expired-claims')).start()
    await allSent('expired-claims')
    expect(slack.delivered).toHaveLength(1)
    const sent = await claims.findOne({ _id: 'entry-1#1#3' })
    expect(sent?.sentAt).toBeInstanceOf(Date)
    expect(sent!.expireAt.getTime() - sent!.claimedAt.getTime()).toBe(alertClaimKeepMs)
  })
})
