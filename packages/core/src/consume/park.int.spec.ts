import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import {
  createTestNamespace,
  eventually,
  getTestServers,
  startSlackReceiver,
  startTcpProxy,
  type SlackReceiver,
  type TcpProxy,
} from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import type { Service } from '../service.ts'
import { eventStore } from '../store/event-store.ts'
import { captureLogs, createTestService } from '../testing/test-service.ts'
import { parkedStreamName } from './park.ts'

// Guarantee 11's last resort: MongoDB stops taking writes while messages run out of attempts.
// Every one is parked in JetStream (and Slack hears of it at once), then lands in the DLQ once
// MongoDB is back. The database is "stopped" for the failing service by cutting a TCP proxy.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'parking')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const store = eventStore(mongo.db(ns.database))
const nc = await connect({ servers: servers.natsUrl })
const jsm = await jetstreamManager(nc)

const ReportRequested = defineEvent({
  subject: 'Report.requested',
  version: 1,
  schema: z.object({ n: z.number() }),
})

let proxy: TcpProxy
let slack: SlackReceiver
let worker: Service
let publisher: Service
const logs = captureLogs('warn')
beforeAll(async () => {
  const url = new URL(servers.mongodbUrl)
  proxy = await startTcpProxy(url.hostname, Number(url.port || 27017))
  slack = await startSlackReceiver()
  worker = await createTestService(ns, servers, 'reports', {
    mongodb: proxy.proxiedUrl(servers.mongodbUrl),
    publishTimeoutMs: 500, // how long the driver looks for the "stopped" database per call
    retry: { maxFailures: 3, baseDelayMs: 20, maxDelayMs: 100 },
    alerts: { slackWebhookUrl: slack.url, windowMs: 300, checkIntervalMs: 100 },
    logger: logs.logger,
  })
  worker.on(ReportRequested, { handler: 'render' }, async () => {
    throw new Error('the renderer is out of memory')
  })
  await worker.start()
  // Not started: it only publishes, and runs no mover of its own (which would reach MongoDB).
  publisher = await createTestService(ns, servers, 'frontend')
})
afterAll(async () => {
  await worker.stop()
  await publisher.stop()
  await proxy.close()
  await slack.close()
  await nc.close()
  await mongo.close()
  await ns.cleanup()
})

describe('when MongoDB does not take DLQ entries', () => {
  it('every message that runs out of attempts is parked, then lands in the DLQ once MongoDB is back', async () => {
    await proxy.cut()
    const op = await publisher.startOperation({ name: 'reportsRequest' })
    const total = 12
    const eventIds = await Promise.all(
      Array.from({ length: total }, (_, n) => op.publish(ReportRequested, { n })),
    )

    // All parked: the parked stream holds each once; nothing reached the DLQ collection.
    const parked = parkedStreamName(worker.stream.name)
    await eventually(
      async () => expect((await jsm.streams.info(parked)).state.messages).toBe(total),
      { timeoutMs: 45_000, intervalMs: 200 },
    )
    expect(await store.dlq.countDocuments()).toBe(0)
    const [alert] = await slack.waitForDelivered(1)
    expect(JSON.stringify(alert!.body)).toContain('could not be written to the DLQ')
    expect(JSON.stringify(alert!.body)).toContain('reports.render')
    const parkedLines = logs.lines.filter((l) => String(l.msg).startsWith('Parked for the dead'))
    expect(new Set(parkedLines.map((l) => l.eventId))).toEqual(new Set(eventIds))
    // Given up in JetStream: nothing is pending or in flight for the group.
    const group = await jsm.consumers.info(worker.stream.name, 'reports_render')
    expect(group.num_pending + group.num_ack_pending).toBe(0)

    await proxy.restore()
    await eventually(async () => expect(await store.dlq.countDocuments()).toBe(total), {
      timeoutMs: 30_000,
      intervalMs: 200,
    })
    const entries = await worker.dlq.list({ consumerGroup: 'reports.render' }, { limit: 100 })
    expect(entries.entries.map((e) => e.eventId).sort()).toEqual([...eventIds].sort())
    for (const entry of entries.entries) {
      // On a busy machine a message can outlive its ack wait while parking and be delivered once
      // more after MongoDB is back: its entry is then written directly (same id, so still one).
      expect(entry).toMatchObject({
        status: 'open',
        trusted: true,
        reason: expect.stringMatching(/^failed \d+ times; last error: /) as string,
      })
      expect(JSON.parse(entry.payload!)).toEqual({ n: expect.any(Number) as number })
      expect(entry.attempts.map((a) => a.attempt).slice(0, 3)).toEqual([1, 2, 3])
    }
    expect(entries.entries.filter((e) => e.parkedAt).length).toBeGreaterThan(0)
    // The mover took every letter out of the parked stream; the usual DLQ alert follows.
    await eventually(async () => expect((await jsm.streams.info(parked)).state.messages).toBe(0))
    await eventually(() =>
      expect(slack.delivered.map((p) => JSON.stringify(p.body)).join('\n')).toContain(
        `moved to the dead letter queue`,
      ),
    )
  }, 120_000)
})
