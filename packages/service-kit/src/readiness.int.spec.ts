import { defineEvent } from '@event-driven/core'
import {
  createTestNamespace,
  eventually,
  getTestServers,
  startNatsServer,
  startTcpProxy,
  type NatsServerProcess,
  type TcpProxy,
} from '@event-driven/testing'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { startProbeServer, type ProbeServer, type ReadinessAnswer } from './probe-server.ts'
import { createRuntime, type ServiceRuntime } from './runtime.ts'
import { testServiceConfig } from './testing/service-config.ts'

// /readyz follows what a service needs to take work: NATS connected, MongoDB answering, its
// consumer groups pulling, and not draining. Each test breaks one of them for real.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'readiness')
const logger = pino({ level: 'silent' })
const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  await ns.cleanup()
})

const TaskQueued = defineEvent({
  subject: 'Task.queued',
  version: 1,
  schema: z.object({ n: z.number() }),
})

/** A runtime with one consumer group (`handle`), and a probe server over its health. */
async function serviceWithProbe(
  scope: string,
  urls: { natsUrl?: string; mongodbUrl?: string },
  handle: () => Promise<void> = async () => {},
): Promise<{ runtime: ServiceRuntime; probe: ProbeServer }> {
  const config = testServiceConfig(servers, ns, {
    ...(urls.natsUrl ? { nats: { servers: urls.natsUrl } } : {}),
    ...(urls.mongodbUrl ? { mongodbUrl: urls.mongodbUrl } : {}),
    databasePrefix: `${ns.database}_${scope}_`,
    stream: {
      name: `${ns.subjectPrefix}_${scope}_EVENTS`,
      subjectPrefix: `${ns.subjectPrefix}_${scope}`,
    },
    rpcPrefix: `${ns.subjectPrefix}_${scope}_rpc`,
  })
  const runtime = await createRuntime('tasks', config, logger)
  runtime.core.on(TaskQueued, { handler: 'runTask' }, handle)
  await runtime.start({})
  const probe = await startProbeServer({ checks: [() => runtime.health()] })
  cleanups.push(async () => {
    await probe.close()
    await runtime.stop()
  })
  return { runtime, probe }
}

async function readyz(probe: ProbeServer): Promise<{ status: number; body: ReadinessAnswer }> {
  const response = await fetch(`${probe.url}/readyz`)
  return { status: response.status, body: (await response.json()) as ReadinessAnswer }
}

/** The one check's report, as `/readyz` shows a service's health. */
const reportOf = (body: ReadinessAnswer) =>
  body.checks[0] as unknown as {
    reasons: string[]
    checks: {
      nats: string
      mongodb: string
      draining: boolean
      consumerGroups: Record<string, string>
    }
  }

const expectReady = async (probe: ProbeServer) => {
  const { status, body } = await readyz(probe)
  expect(body.notReady, JSON.stringify(body)).toEqual([])
  expect(status).toBe(200)
  expect(reportOf(body).checks.consumerGroups).toEqual({ 'tasks.runTask': 'pulling' })
}

describe('/readyz of a service', () => {
  it('is 503 naming NATS while its broker is down, and 200 again once it is back', async () => {
    const broker: NatsServerProcess = await startNatsServer()
    cleanups.push(() => broker.dispose())
    const { probe } = await serviceWithProbe('nats', { natsUrl: broker.url })
    await eventually(() => expectReady(probe))

    await broker.stop()
    await eventually(async () => {
      const { status, body } = await readyz(probe)
      expect(status).toBe(503)
      expect(body.notReady).toEqual(['tasks'])
      expect(reportOf(body).checks.nats).not.toBe('connected')
      expect(reportOf(body).reasons.join('; ')).toMatch(/NATS is (disconnected|reconnecting)/)
    })
    // Alive all along: liveness must not restart a process that waits for its broker.
    expect((await fetch(`${probe.url}/healthz`)).status).toBe(200)

    await broker.start()
    await eventually(() => expectReady(probe), { timeoutMs: 15_000 })
  })

  it('is 503 naming MongoDB while it is unreachable, and 200 again once it answers', async () => {
    const { hostname, port } = new URL(servers.mongodbUrl)
    const proxy: TcpProxy = await startTcpProxy(hostname, Number(port))
    cleanups.push(() => proxy.close())
    const { probe } = await serviceWithProbe('mongo', {
      mongodbUrl: proxy.proxiedUrl(servers.mongodbUrl),
    })
    await eventually(() => expectReady(probe))

    await proxy.cut()
    await eventually(async () => {
      const { status, body } = await readyz(probe)
      expect(status).toBe(503)
      expect(reportOf(body).checks.mongodb).toBe('unreachable')
      expect(reportOf(body).checks.nats).toBe('connected')
      expect(reportOf(body).reasons.join('; ')).toMatch(/MongoDB is unreachable/)
    })

    await proxy.restore()
    await eventually(() => expectReady(probe), { timeoutMs: 15_000 })
  })

  it('turns 503 (draining) as stop() begins, before an in-flight handler is released; /healthz stays 200 until the server closes', async () => {
    let entered = false
    let release: () => void = () => {}
    const { runtime, probe } = await serviceWithProbe('drain', {}, async () => {
      entered = true
      await new Promise<void>((resolve) => (release = resolve))
    })
    await eventually(() => expectReady(probe))
    const op = await runtime.core.startOperation({ name: 'queueTask' })
    await op.publish(TaskQueued, { n: 1 })
    await eventually(() => expect(entered).toBe(true))

    const stopped = runtime.stop()
    let stopFinished = false
    void stopped.then(() => (stopFinished = true))
    await eventually(async () => {
      const { status, body } = await readyz(probe)
      expect(status).toBe(503)
      expect(reportOf(body).checks.draining).toBe(true)
      expect(reportOf(body).reasons.join('; ')).toMatch(/draining/)
      // The core's own readiness too, not only the runtime's.
      expect((await runtime.core.health()).checks.lifecycle).toBe('draining')
    })
    // The handler still holds its event: readiness went false first.
    expect(stopFinished).toBe(false)
    expect((await fetch(`${probe.url}/healthz`)).status).toBe(200)

    release()
    await stopped
    expect((await fetch(`${probe.url}/healthz`)).status).toBe(200)
    await probe.close()
    await expect(fetch(`${probe.url}/healthz`)).rejects.toThrow()
  })
})
