import { jetstreamManager } from '@nats-io/jetstream'
import { connect, nanos } from '@nats-io/transport-node'
import { createTestNamespace, getTestServers } from '@event-driven/testing'
import { afterAll, describe, expect, it } from 'vitest'
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
})
