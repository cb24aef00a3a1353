import { jetstreamManager } from '@nats-io/jetstream'
import { connect, nanos } from '@nats-io/transport-node'
import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { partitionTransform } from './ordering/keyed-subjects.ts'
import { TaskUpdated } from './testing/task-events.ts'
import { captureLogs, createTestService } from './testing/test-service.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'streams')
const nc = await connect({ servers: servers.natsUrl })
const jsm = await jetstreamManager(nc)
afterAll(async () => {
  await nc.close()
  await ns.cleanup()
})

describe('stream provisioning', () => {
  it('creates the stream from the configuration', async () => {
    const svc = await createTestService(ns, servers, 'users', {
      scope: 'new',
      stream: {
        name: `${ns.subjectPrefix}_new_EVENTS`,
        subjectPrefix: `${ns.subjectPrefix}_new`,
        maxAgeMs: 3_600_000,
        duplicateWindowMs: 60_000,
      },
    })
    await svc.stop()
    const { config } = await jsm.streams.info(`${ns.subjectPrefix}_new_EVENTS`)
    expect(config.subjects).toEqual([`${ns.subjectPrefix}_new.>`])
    expect(config.max_age).toBe(nanos(3_600_000))
    expect(config.duplicate_window).toBe(nanos(60_000))
    expect(config.subject_transform).toEqual(partitionTransform(`${ns.subjectPrefix}_new`, 16))
    expect(svc.streamDifferences).toEqual([])
  })

  it('reports an existing stream whose settings differ, and leaves it unchanged', async () => {
    const name = `${ns.subjectPrefix}_old_EVENTS`
    await jsm.streams.add({ name, subjects: [`${ns.subjectPrefix}_old.>`], max_age: nanos(60_000) })
    const logs = captureLogs()
    const svc = await createTestService(ns, servers, 'users', { scope: 'old', logger: logs.logger })
    await svc.stop()

    expect(svc.streamDifferences).toContainEqual({
      setting: 'max_age',
      configured: nanos(7 * 24 * 3_600_000),
      actual: nanos(60_000),
    })
    expect(logs.messages()).toContain(
      'the existing stream differs from the configuration; it was left unchanged',
    )
    expect((await jsm.streams.info(name)).config.max_age).toBe(nanos(60_000))
  })

  it('adds the partition transform to an existing stream that has none (made before keyed events)', async () => {
    const prefix = `${ns.subjectPrefix}_older`
    const name = `${prefix}_EVENTS`
    await jsm.streams.add({ name, subjects: [`${prefix}.>`], max_age: nanos(7 * 24 * 3_600_000) })
    const svc = await createTestService(ns, servers, 'users', {
      scope: 'older',
      stream: { name, subjectPrefix: prefix, partitions: 4 },
    })
    await svc.stop()
    expect((await jsm.streams.info(name)).config.subject_transform).toEqual(
      partitionTransform(prefix, 4),
    )
    expect(svc.streamDifferences).toEqual([])
  })

  it('a stream with a transform of its own: reported; keyed events go out unkeyed and are handled, in no particular order', async () => {
    const prefix = `${ns.subjectPrefix}_own`
    const name = `${prefix}_EVENTS`
    const own = { src: `${prefix}.legacy.>`, dest: `${prefix}.current.>` }
    await jsm.streams.add({ name, subjects: [`${prefix}.>`], subject_transform: own })
    const logs = captureLogs()
    const svc = await createTestService(ns, servers, 'tasks', {
      scope: 'own',
      stream: { name, subjectPrefix: prefix },
      logger: logs.logger,
    })
    const handled: number[] = []
    svc.on(TaskUpdated, { handler: 'applyUpdate' }, async (event) => {
      handled.push(event.data.seq)
    })
    await svc.start()
    try {
      const op = await svc.startOperation({ name: 'updateTasks' })
      await Promise.all([0, 1, 2].map((seq) => op.publish(TaskUpdated, { key: 'k', seq })))
      await eventually(() => expect(handled.sort()).toEqual([0, 1, 2]))
      expect(svc.streamDifferences).toContainEqual({
        setting: 'subject_transform',
        configured: partitionTransform(prefix, 16),
        actual: own,
      })
      expect(logs.messages()).toContain(
        'the stream has a subject transform of its own: keyed events are published and handled unkeyed, in no particular order (docs/ordering.md)',
      )
      // The group has its own durable only: no partitions.
      expect((await svc.consumerGroups()).map((g) => g.partitions)).toEqual([undefined])
    } finally {
      await svc.stop()
    }
  })
})
