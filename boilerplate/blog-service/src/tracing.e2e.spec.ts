import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createTestNamespace,
  eventually,
  getTestServers,
  startJaeger,
  startNatsServer,
  type Jaeger,
  type JaegerSpan,
  type NatsServerProcess,
  type NodeProcess,
} from '@event-driven/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { faultEnv } from './testing/faults.ts'
import { blogEnv, freePort, startBlogProcess } from './testing/blog-process.ts'
import { chainOf, registerAndLogin } from './testing/flow.ts'

// The blog in --split mode (a process per service and one for the gateway), exporting over OTLP to
// a real Jaeger: one rename is one trace, from the GraphQL request that carried its traceparent
// through request-reply, the users' state change, both handlers (one of them retried), their child
// events, and a child event the relay published after NATS was down.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'blog tracing')
const cleanups: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  await ns.cleanup()
})

const failed = (span: JaegerSpan) => span.tags['otel.status_code'] === 'ERROR'
const attempt = (span: JaegerSpan) => Number(span.tags['event_driven.attempt'])
const group = (span: JaegerSpan) => span.tags['messaging.consumer.group.name']

describe('one trace per operation across the processes of the blog', () => {
  it('userUpdateNames: request → request-reply → state change → both handlers (a retry, a relayed child)', async () => {
    const jaeger: Jaeger = await startJaeger()
    cleanups.push(() => jaeger.stop())
    const broker: NatsServerProcess = await startNatsServer()
    cleanups.push(() => broker.dispose())
    const dir = await mkdtemp(join(tmpdir(), 'blog-tracing-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const hold = join(dir, 'hold')
    const held = join(dir, 'held')

    const port = await freePort()
    const url = `http://127.0.0.1:${port}/graphql`
    const env = blogEnv(ns, { ...servers, natsUrl: broker.url }, port, {
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttpUrl,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      // The retried deliveries come back after the relay has published the waiting child.
      RETRY_BASE_DELAY_MS: '3000',
      RELAY_INTERVAL_MS: '200',
      RELAY_MIN_AGE_MS: '300',
      ...faultEnv({
        failingHandler: {
          consumerGroup: 'comments.updateAuthorName',
          message: 'the comments store is busy',
          times: 1,
        },
        heldHandler: {
          consumerGroup: 'blogs.updateAuthorName',
          whileFileExists: hold,
          heldFile: held,
        },
      }),
    })
    const blog: NodeProcess = await startBlogProcess(['--split'], env, [
      'users',
      'blogs',
      'comments',
      'gateway',
    ])
    cleanups.push(() => blog.stop())
    const { token } = await registerAndLogin(url, 'tracy')

    // The request arrives in a trace of its caller's: the whole chain continues it.
    const traceId = randomBytes(16).toString('hex')
    const callerSpan = randomBytes(8).toString('hex')
    await writeFile(hold, '')
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        traceparent: `00-${traceId}-${callerSpan}-01`,
      },
      body: JSON.stringify({
        query: `mutation { userUpdateNames(firstName: "Grace", lastName: "Hopper") { operationId } }`,
      }),
    })
    const renamed = (await response.json()) as {
      data: { userUpdateNames: { operationId: string } }
    }
    const operationId = renamed.data.userUpdateNames.operationId

    // The blogs handler waits; NATS stops; it runs and its child cannot be confirmed.
    await eventually(() => expect(existsSync(held)).toBe(true), { timeoutMs: 20_000 })
    await broker.stop()
    await rm(hold)
    const trace = async () => (await jaeger.trace(traceId)) ?? []
    await eventually(
      async () =>
        expect(
          (await trace()).some(
            (s) => s.operationName === 'publish Blog.authorUpdated' && failed(s),
          ),
        ).toBe(true),
      { timeoutMs: 30_000 },
    )
    await broker.start()

    // The chain ends: both copies renamed, both child events published and recorded.
    await chainOf(
      url,
      operationId,
      (events) =>
        expect(events.map((e) => e.subject).sort()).toEqual([
          'Blog.authorUpdated',
          'Comment.authorUpdated',
          'User.nameUpdated',
        ]),
      60_000,
    )
    const spans = await eventually(
      async () => {
        const all = await trace()
        expect(all.filter((s) => s.operationName === 'process User.nameUpdated')).toHaveLength(4)
        // The retry's and at least one relay's (see below).
        const published = all.filter(
          (s) => s.operationName === 'publish Blog.authorUpdated' && !failed(s),
        )
        expect(published.length).toBeGreaterThanOrEqual(2)
        expect(all.some((s) => s.operationName === 'publish Comment.authorUpdated')).toBe(true)
        return all
      },
      { timeoutMs: 30_000 },
    )
    const byId = new Map(spans.map((s) => [s.spanId, s]))
    const one = (name: string, where: (s: JaegerSpan) => boolean = () => true) => {
      const found = spans.filter((s) => s.operationName === name && where(s))
      expect(found, name).toHaveLength(1)
      return found[0]!
    }
    const parentOf = (span: JaegerSpan) => byId.get(span.parentSpanId ?? '')

    // Every process took part, in the one trace.
    expect(new Set(spans.map((s) => s.serviceName))).toEqual(
      new Set(['blog-gateway', 'blog-users', 'blog-blogs', 'blog-comments']),
    )
    const mutation = one('mutation userUpdateNames')
    expect(mutation).toMatchObject({ serviceName: 'blog-gateway', parentSpanId: callerSpan })
    const client = one('users/updateNames', (s) => s.serviceName === 'blog-gateway')
    expect(client.parentSpanId).toBe(mutation.spanId)
    const server = one('users/updateNames', (s) => s.serviceName === 'blog-users')
    expect(server.parentSpanId).toBe(client.spanId)
    const operation = one('operation userUpdateNames')
    expect(operation.parentSpanId).toBe(server.spanId)
    expect(operation.tags['event_driven.operation.id']).toBe(operationId)
    const published = one('publish User.nameUpdated')
    expect(published).toMatchObject({ serviceName: 'blog-users', parentSpanId: operation.spanId })

    // Each group's deliveries belong to the publish: the comments handler failed once, then ran.
    const deliveries = spans.filter((s) => s.operationName === 'process User.nameUpdated')
    for (const delivery of deliveries) expect(delivery.parentSpanId).toBe(published.spanId)
    const comments = deliveries.filter((s) => group(s) === 'comments.updateAuthorName')
    expect(comments.map((s) => [attempt(s), failed(s)]).sort()).toEqual([
      [1, true],
      [2, false],
    ])
    expect(comments.find(failed)!.events).toContain('retry')

    // The blogs handler's first run could not publish its child (NATS was down): the relay
    // published it later, in the same trace, and the redelivered run re-emitted it.
    const blogs = deliveries.filter((s) => group(s) === 'blogs.updateAuthorName')
    expect(blogs.map((s) => [attempt(s), failed(s)]).sort()).toEqual([
      [1, true],
      [2, false],
    ])
    const isRelay = (s: JaegerSpan) => s.tags['event_driven.redelivery'] === 'relay'
    const firstTry = one('publish Blog.authorUpdated', (s) => failed(s) && !isRelay(s))
    expect(parentOf(parentOf(firstTry)!)).toMatchObject({ spanId: blogs.find(failed)!.spanId })
    const relayTries = spans.filter(
      (s) => s.operationName === 'publish Blog.authorUpdated' && isRelay(s),
    )
    // Every process's relay publishes what waits in the outbox (tries while NATS was down fail;
    // JetStream drops the copies of concurrent ones by message id): each try a child of the first.
    for (const relay of relayTries) expect(relay.parentSpanId).toBe(firstTry.spanId)
    expect(relayTries.filter((s) => !failed(s)).length).toBeGreaterThanOrEqual(1)
    const again = one('publish Blog.authorUpdated', (s) => !failed(s) && !isRelay(s))
    expect(parentOf(parentOf(again)!)).toMatchObject({
      spanId: blogs.find((s) => !failed(s))!.spanId,
    })

    // The comments handler's child belongs to its successful run.
    const commentChild = one('publish Comment.authorUpdated')
    expect(parentOf(parentOf(commentChild)!)).toMatchObject({
      spanId: comments.find((s) => !failed(s))!.spanId,
    })
    // Nothing of the trace is left without its parent but the caller's own span.
    const orphans = spans.filter((s) => s.parentSpanId && !byId.has(s.parentSpanId))
    expect(orphans.map((s) => s.operationName)).toEqual(['mutation userUpdateNames'])
    // The services' log lines of a delivery carry the trace id.
    expect(blog.output()).toContain(traceId)
  }, 180_000)
})
