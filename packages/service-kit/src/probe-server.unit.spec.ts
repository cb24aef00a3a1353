import { connect as connectTcp } from 'node:net'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { startProbeServer, type ProbeServer, type Readiness } from './probe-server.ts'

// The probe server answers an orchestrator: alive, ready or not (and why), metrics when wired.
// It listens where anyone on the network may reach it, so no request can crash it.
const servers: ProbeServer[] = []
afterAll(() => Promise.all(servers.map((server) => server.close())))

async function probeWith(...options: Parameters<typeof startProbeServer>): Promise<ProbeServer> {
  const server = await startProbeServer(...options)
  servers.push(server)
  return server
}

const readyCheck = (name: string, ready: boolean) => async (): Promise<Readiness> => ({
  name,
  ready,
})

describe('probe server routes', () => {
  it('/healthz is 200, /readyz 200 when every check is ready', async () => {
    const probe = await probeWith({
      checks: [readyCheck('users', true), readyCheck('blogs', true)],
    })
    expect(probe.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect((await fetch(`${probe.url}/healthz`)).status).toBe(200)
    const ready = await fetch(`${probe.url}/readyz?verbose=1`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ ready: true, notReady: [] })
  })

  it('/readyz is 503 naming each check that is not ready, throws, or does not answer in time', async () => {
    const probe = await probeWith({
      checks: [
        readyCheck('users', true),
        readyCheck('blogs', false),
        () => Promise.reject(new Error('broken check')),
        () => new Promise<Readiness>(() => {}),
      ],
      checkTimeoutMs: 200,
    })
    const response = await fetch(`${probe.url}/readyz`)
    expect(response.status).toBe(503)
    const body = (await response.json()) as { notReady: string[]; checks: { error?: string }[] }
    expect(body.notReady).toEqual(['blogs', 'check 3', 'check 4'])
    expect(body.checks[2]!.error).toBe('broken check')
    expect(body.checks[3]!.error).toBe('no answer within 200 ms')
  })

  it('/metrics is 404 without a metrics function, and its answer with one', async () => {
    const without = await probeWith({ checks: [] })
    expect((await fetch(`${without.url}/metrics`)).status).toBe(404)
    const withMetrics = await probeWith({
      checks: [],
      metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'up 1\n' }),
    })
    const response = await fetch(`${withMetrics.url}/metrics`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4')
    expect(await response.text()).toBe('up 1\n')
  })

  it('any other path is 404, any other method 405', async () => {
    const probe = await probeWith({ checks: [] })
    for (const path of ['/', '/ready', '/healthz/', '/__proto__', '/constructor', '/toString'])
      expect((await fetch(`${probe.url}${path}`)).status, path).toBe(404)
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD']) {
      const response = await fetch(`${probe.url}/readyz`, { method })
      expect(response.status, method).toBe(405)
      expect(response.headers.get('allow')).toBe('GET')
    }
  })
})

/** Sends bytes as they are and returns the status line's code, or 0 when the socket just closed. */
function rawRequest(probe: ProbeServer, bytes: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(probe.port, '127.0.0.1')
    let answer = ''
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')))
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? resolve(0) : reject(error),
    )
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)))
    socket.end(bytes)
  })
}

describe('hostile input (property)', () => {
  it('no method, path or header bytes crash it: every request gets an answer or a closed socket, and it still serves', async () => {
    const probe = await probeWith({ checks: [readyCheck('tasks', true)] })
    const anyBytes = fc.string({ unit: 'binary', maxLength: 200 })
    const token = fc.oneof(
      fc.constantFrom('GET', 'POST', 'HEAD', 'OPTIONS', 'CONNECT', 'get', ''),
      fc.string({ unit: 'binary-ascii', maxLength: 20 }),
    )
    const path = fc.oneof(
      fc.constantFrom('/healthz', '/readyz', '/metrics', '*', '//x', '/%00', '/%zz', '/readyz?%zz'),
      anyBytes,
    )
    const header = fc.tuple(
      fc.string({ unit: 'binary-ascii', maxLength: 30 }),
      fc.oneof(anyBytes, fc.constant('A'.repeat(20_000))),
    )
    await fc.assert(
      fc.asyncProperty(
        token,
        path,
        fc.array(header, { maxLength: 4 }),
        fc.uint8Array({ maxLength: 100 }),
        async (method, target, headers, tail) => {
          const head = [
            `${method} ${target} HTTP/1.1`,
            'host: probe',
            ...headers.map(([name, value]) => `${name}: ${value}`),
            'connection: close',
            '',
            '',
          ].join('\r\n')
          const status = await rawRequest(probe, Buffer.concat([Buffer.from(head, 'latin1'), tail]))
          expect([0, 200, 400, 404, 405, 413, 414, 431, 505]).toContain(status)
        },
      ),
      { numRuns: 200 },
    )
    expect((await fetch(`${probe.url}/readyz`)).status).toBe(200)
  })
})
