import { setTimeout as sleep } from 'node:timers/promises'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import { eventStore } from '../store/event-store.ts'
import { deliveryKey } from '../store/keys.ts'
import { startServiceProcess, taskServiceEnv } from '../testing/process.ts'
import { TaskCreated, type EffectRecord } from '../testing/task-events.ts'
import { createTestService, databaseName } from '../testing/test-service.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'shutdown')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const nc = await connect({ servers: servers.natsUrl })
const jsm = await jetstreamManager(nc)
afterAll(async () => {
  await nc.close()
  await mongo.close()
  await ns.cleanup()
})

const ReportRequested = defineEvent({
  subject: 'Report.requested',
  version: 1,
  schema: z.object({ reportId: z.string() }),
})

describe('graceful shutdown', () => {
  it('stop() during a slow handler: the handler finishes, is acked, and nothing is redelivered later', async () => {
    const store = eventStore(mongo.db(databaseName(ns, 'stop')))
    const svc = await createTestService(ns, servers, 'reports', { scope: 'stop' })
    const finished: string[] = []
    let started = false
    svc.on(ReportRequested, { handler: 'build', timeoutMs: 10_000 }, async (event) => {
      started = true
      await sleep(1_500) // longer than the 1 s ack wait: kept alive while stopping
      finished.push(event.data.reportId)
    })
    await svc.start()
    const op = await svc.startOperation({ name: 'reportRequest' })
    const eventId = await op.publish(ReportRequested, { reportId: 'r1' })
    await eventually(() => expect(started).toBe(true))

    await svc.stop()
    expect(finished).toEqual(['r1'])
    expect(
      await store.processed.countDocuments({ _id: deliveryKey(eventId, 'reports.build') }),
    ).toBe(1)
    // Nothing pending and nothing waiting for an ack: JetStream has nothing to redeliver.
    const info = await jsm.consumers.info(`${ns.subjectPrefix}_stop_EVENTS`, 'reports_build')
    expect({
      pending: info.num_pending,
      ackPending: info.num_ack_pending,
      redelivered: info.num_redelivered,
    }).toEqual({
      pending: 0,
      ackPending: 0,
      redelivered: 0,
    })
  })
})

describe('SIGTERM in a service process', () => {
  it('drains the handler in flight, then exits 0; its effect happened and nothing is pending', async () => {
    const scope = 'sigterm'
    const db = mongo.db(databaseName(ns, scope))
    const effects = db.collection<EffectRecord>('effects')
    const starts = db.collection<{ eventId: string }>('starts')
    const proc = startServiceProcess('task-service.ts', {
      ...taskServiceEnv(ns, servers, scope),
      HANDLER_DELAY_MS: '1500', // past the 1 s ack wait: kept alive while draining
      HANDLER_TIMEOUT_MS: '10000',
    })
    await proc.ready
    const publisher = await createTestService(ns, servers, 'tasks-client', { scope })
    const op = await publisher.startOperation({ name: 'createTasks' })
    const eventId = await op.publish(TaskCreated, { n: 1 })
    await publisher.stop()
    await eventually(async () => expect(await starts.countDocuments()).toBe(1))

    proc.child.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
    expect(await effects.findOne({ _id: eventId })).toMatchObject({ runs: 1 })
    const info = await jsm.consumers.info(`${ns.subjectPrefix}_${scope}_EVENTS`, 'tasks_recordTask')
    expect({ pending: info.num_pending, ackPending: info.num_ack_pending }).toEqual({
      pending: 0,
      ackPending: 0,
    })
  })
})

describe('a service process killed with SIGKILL mid-handler', () => {
  it('after a restart, every event is handled and its effect happened once', async () => {
    const scope = 'kill'
    const db = mongo.db(databaseName(ns, scope))
    const effects = db.collection<EffectRecord>('effects')
    const starts = db.collection<{ eventId: string }>('starts')
    const env = {
      ...taskServiceEnv(ns, servers, scope),
      CONCURRENCY: '1', // one handler at a time: the kill lands inside its delay, before its effect
      HANDLER_DELAY_MS: '300',
    }
    const publisher = await createTestService(ns, servers, 'tasks-client', { scope })
    const op = await publisher.startOperation({ name: 'createTasks' })
    const total = 20
    await Promise.all(Array.from({ length: total }, (_, n) => op.publish(TaskCreated, { n })))
    await publisher.stop()

    const first = startServiceProcess('task-service.ts', { ...env, INSTANCE: 'first' })
    await first.ready
    // Kill once a few events are done and one more has started.
    await eventually(async () => expect(await starts.countDocuments()).toBeGreaterThanOrEqual(5), {
      timeoutMs: 20_000,
    })
    first.child.kill('SIGKILL')
    expect(await first.exited).toBe('SIGKILL')
    const doneBeforeKill = await effects.countDocuments()
    expect(doneBeforeKill).toBeLessThan(total)

    const second = startServiceProcess('task-service.ts', { ...env, INSTANCE: 'second' })
    try {
      await second.ready
      await eventually(async () => expect(await effects.countDocuments()).toBe(total), {
        timeoutMs: 30_000,
      })
      const all = await effects.find().toArray()
      expect(all.filter((e) => e.runs !== 1)).toEqual([])
      expect(all.filter((e) => e.instances[0] === 'second').length).toBeGreaterThan(0)
      // The killed delivery was started twice (once per process) but took effect once; the
      // delivery the kill cut short is recorded as a failure with no outcome.
      expect(await starts.countDocuments()).toBeGreaterThan(total)
      const failures = await eventStore(db).failures.find().toArray()
      expect(failures.length).toBeGreaterThan(0)
      expect(failures[0]?.attempts[0]).toMatchObject({
        attempt: 1,
        message:
          'no outcome was recorded for delivery 1 (the process stopped or the ack wait passed)',
      })
    } finally {
      second.child.kill('SIGTERM')
      expect(await second.exited).toBe(0)
    }
  })
})
