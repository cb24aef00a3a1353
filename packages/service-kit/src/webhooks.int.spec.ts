import { connect as connectTcp } from 'node:net'
import { defineEvent } from '@event-driven/core'
import { createTestNamespace, eventually, freePort, getTestServers } from '@event-driven/testing'
import fc from 'fast-check'
import { MongoClient } from 'mongodb'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { ServiceConfig } from './config.ts'
import { testServiceConfig } from './testing/service-config.ts'
import { startGateway, type Gateway } from './gateway.ts'
import { defineServiceModule, type RunningService } from './module.ts'
import { parseInput, requireWebhook } from './rpc.ts'
import { createRuntime } from './runtime.ts'
import { developmentWebhookSecret, signedWebhookHeaders } from './webhook-signature.ts'

// A webhook delivery is checked before anything is recorded (signature, size, JSON), runs once per
// delivery id whatever the sender repeats, and is an operation whose chain operation(id) shows.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'webhooks')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const eventStore = mongo.db(`${ns.database}_event_driven`)

const secret = developmentWebhookSecret('payment-received in this test')
const PaymentReceived = defineEvent({
  subject: 'Payment.received',
  version: 1,
  schema: z.object({ paymentId: z.string(), amount: z.number() }),
})
const Payment = z.object({ paymentId: z.string().min(1).max(100), amount: z.number().positive() })

/** Deliveries each method ran, by delivery id. */
const ran: Record<string, number> = {}
let slowEntered = false
let releaseSlow: () => void = () => {}

const payments = defineServiceModule({
  name: 'payments',
  async start(config, logger) {
    const runtime = await createRuntime('payments', config, logger)
    await runtime.start({
      received: async (input, _actor, call) => {
        const { actor, deliveryId } = requireWebhook(call, 'payment-received')
        const payment = parseInput(Payment, input)
        ran[deliveryId] = (ran[deliveryId] ?? 0) + 1
        const op = await runtime.core.startOperation({
          id: call.operationId,
          name: 'paymentReceived',
          input: payment,
          actor,
        })
        await op.publish(PaymentReceived, payment)
        await op.complete()
        return { paymentId: payment.paymentId }
      },
      slow: async (_input, _actor, call) => {
        const { actor } = requireWebhook(call, 'payment-slow')
        slowEntered = true
        const op = await runtime.core.startOperation({
          id: call.operationId,
          name: 'paymentSlow',
          actor,
        })
        await new Promise<void>((resolve) => (releaseSlow = resolve))
        await op.complete()
        return { slow: true }
      },
    })
    return runtime
  },
  webhooks: {
    'payment-received': { method: 'received', maxBodyBytes: 4096 },
    'payment-slow': { method: 'slow' },
  },
})

let gateway: Gateway
let service: RunningService
let config: ServiceConfig
beforeAll(async () => {
  config = testServiceConfig(servers, ns, {
    webhookSecrets: { 'payment-received': secret, 'payment-slow': secret },
    port: await freePort(),
  })
  const logger = pino({ level: 'silent' })
  service = await payments.start(config, logger)
  gateway = await startGateway(config, logger, [payments])
})
afterAll(async () => {
  releaseSlow()
  await gateway?.stop()
  await service?.stop()
  await mongo.close()
  await ns.cleanup()
})

interface Answer {
  status: number
  headers: Headers
  body: {
    operationId?: string
    result?: unknown
    error?: { code: string; message: string }
  }
}

/** POSTs `body` to a webhook, signed (by default with the webhook's secret, now) unless `unsigned`. */
async function deliver(
  body: string | ReadableStream<Uint8Array>,
  options: {
    id?: string
    webhook?: string
    signWith?: string
    now?: number
    headers?: Record<string, string>
    method?: string
    unsigned?: boolean
  } = {},
): Promise<Answer> {
  const {
    id = `delivery-${Math.random()}`,
    webhook = 'payment-received',
    signWith = secret,
  } = options
  const signed =
    typeof body === 'string' && !options.unsigned
      ? signedWebhookHeaders(signWith, id, body, options.now)
      : {}
  const response = await fetch(`${gateway.webhookUrls[webhook]}`, {
    method: options.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...signed, ...options.headers },
    ...(options.method === 'GET' ? {} : { body }),
    ...(typeof body === 'string' ? {} : { duplex: 'half' }),
  })
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as Answer['body'],
  }
}

const payment = (paymentId: string, amount = 10) => JSON.stringify({ paymentId, amount })

/** Everything a delivery could have recorded: idempotency keys and operations. */
async function recordedCounts() {
  return {
    keys: await eventStore.collection('idempotency_keys').countDocuments(),
    operations: await eventStore.collection('operations').countDocuments(),
  }
}

describe('a signed delivery', () => {
  it('is an operation of actor webhook:<name>, answered with its id; operation(id) shows its chain', async () => {
    const answer = await deliver(payment('p-1', 25), { id: 'msg_first' })
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({
      operationId: expect.any(String) as string,
      result: { paymentId: 'p-1' },
    })
    const operationId = answer.body.operationId!
    expect(
      await eventStore.collection('operations').findOne({ _id: operationId as never }),
    ).toMatchObject({
      name: 'paymentReceived',
      actor: 'webhook:payment-received',
      status: 'completed',
      input: { paymentId: 'p-1', amount: 25 },
    })
    const chain = await eventually(
      async () => {
        const response = await fetch(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: `query ($id: ID!) { operation(id: $id) { name actor status events { subject parentId data } } }`,
            variables: { id: operationId },
          }),
        })
        const { data } = (await response.json()) as {
          data: { operation: { events: { subject: string; parentId: string; data: string }[] } }
        }
        expect(data.operation.events).toHaveLength(1)
        return data.operation
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    )
    expect(chain).toMatchObject({
      name: 'paymentReceived',
      actor: 'webhook:payment-received',
      status: 'completed',
      events: [{ subject: 'Payment.received', parentId: operationId }],
    })
    expect(JSON.parse(chain.events[0]!.data)).toEqual({ paymentId: 'p-1', amount: 25 })
  })

  it('delivered again with the same id: the first answer and operation id, run once', async () => {
    const first = await deliver(payment('p-2'), { id: 'msg_again' })
    const again = await deliver(payment('p-2'), { id: 'msg_again' })
    expect(again.status).toBe(200)
    expect(again.body).toEqual(first.body)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    expect(ran.msg_again).toBe(1)
  })

  it('the same id with another body: 409 DELIVERY_ID_REUSED with the first operation id, run once', async () => {
    const first = await deliver(payment('p-3'), { id: 'msg_reused' })
    const other = await deliver(payment('p-3', 99), { id: 'msg_reused' })
    expect(other.status).toBe(409)
    expect(other.body).toMatchObject({
      error: { code: 'DELIVERY_ID_REUSED' },
      operationId: first.body.operationId,
    })
    expect(ran.msg_reused).toBe(1)
  })

  it('a duplicate while the first still runs: 409 DELIVERY_IN_PROGRESS with its operation id; later, its answer', async () => {
    const first = deliver('{}', { id: 'msg_slow', webhook: 'payment-slow' })
    await eventually(() => expect(slowEntered).toBe(true), { timeoutMs: 5_000, intervalMs: 20 })
    const duplicate = await deliver('{}', { id: 'msg_slow', webhook: 'payment-slow' })
    expect(duplicate.status).toBe(409)
    expect(duplicate.headers.get('retry-after')).toBe('5')
    expect(duplicate.body.error?.code).toBe('DELIVERY_IN_PROGRESS')
    releaseSlow()
    const answered = await first
    expect(answered.status).toBe(200)
    expect(duplicate.body.operationId).toBe(answered.body.operationId)
    const later = await deliver('{}', { id: 'msg_slow', webhook: 'payment-slow' })
    expect(later).toMatchObject({ status: 200, body: answered.body })
  })

  it('refused by its service (bad input): 422 with the code, and the same refusal to a redelivery', async () => {
    const bad = JSON.stringify({ paymentId: 'p-4', amount: -1 })
    const first = await deliver(bad, { id: 'msg_bad' })
    expect(first.status).toBe(422)
    expect(first.body).toMatchObject({
      error: { code: 'BAD_USER_INPUT', message: expect.stringContaining('amount') as string },
      operationId: expect.any(String) as string,
    })
    const again = await deliver(bad, { id: 'msg_bad' })
    expect(again.status).toBe(422)
    expect(again.body).toEqual(first.body)
  })
})

describe('refused before anything is recorded', () => {
  async function expectRefusal(send: () => Promise<Answer>, status: number, code: string) {
    const before = await recordedCounts()
    const runs = { ...ran }
    const { status: got, body } = await send()
    expect({ status: got, code: body.error?.code }).toEqual({ status, code })
    expect(body.error?.message).toEqual(expect.any(String))
    expect(await recordedCounts()).toEqual(before)
    expect(ran).toEqual(runs)
  }

  it('no signature, a wrong one, a stale one: 401', async () => {
    const body = payment('p-5')
    await expectRefusal(() => deliver(body, { unsigned: true }), 401, 'SIGNATURE_MISSING')
    // Unsigned and large: refused before its body is read, and the connection ends.
    await expectRefusal(
      () => deliver(' '.repeat(300_000), { unsigned: true }),
      401,
      'SIGNATURE_MISSING',
    )
    await expectRefusal(
      () => deliver(body, { signWith: developmentWebhookSecret('another webhook') }),
      401,
      'SIGNATURE_INVALID',
    )
    await expectRefusal(
      () => deliver(body, { now: Date.now() - 6 * 60_000 }),
      401,
      'SIGNATURE_STALE',
    )
    await expectRefusal(
      () => deliver(body, { now: Date.now() + 6 * 60_000 }),
      401,
      'SIGNATURE_STALE',
    )
    // Signed over one body, sent with another.
    const signed = signedWebhookHeaders(secret, 'msg_swapped', body)
    await expectRefusal(
      () => deliver(payment('p-5', 1_000_000), { id: 'msg_swapped', headers: signed }),
      401,
      'SIGNATURE_INVALID',
    )
  })

  it('a body over the limit: 413 from its Content-Length, or while it streams', async () => {
    await expectRefusal(
      () => deliver(JSON.stringify({ paymentId: 'x'.repeat(5000), amount: 1 })),
      413,
      'PAYLOAD_TOO_LARGE',
    )
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 100_000) return controller.close()
        sent += 1024
        controller.enqueue(new TextEncoder().encode(' '.repeat(1024)))
      },
    })
    const signed = signedWebhookHeaders(secret, 'msg_stream', 'whatever')
    await expectRefusal(() => deliver(stream, { headers: signed }), 413, 'PAYLOAD_TOO_LARGE')
    expect((await deliver(payment('p-after-413'))).status).toBe(200)
  })

  it('not JSON: 415 for another content type, 400 for a body that does not parse', async () => {
    await expectRefusal(
      () => deliver(payment('p-6'), { headers: { 'content-type': 'text/plain' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    )
    await expectRefusal(() => deliver('{"paymentId": '), 400, 'BAD_JSON')
  })

  it('a delivery id over 200 characters: 400; a GET: 405; an unknown webhook path stays the GraphQL server’s', async () => {
    await expectRefusal(
      () => deliver(payment('p-7'), { id: 'x'.repeat(201) }),
      400,
      'BAD_DELIVERY_ID',
    )
    const get = await fetch(gateway.webhookUrls['payment-received']!)
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
    expect(((await get.json()) as Answer['body']).error?.code).toBe('METHOD_NOT_ALLOWED')
    const unknown = await fetch(gateway.url.replace('/graphql', '/webhooks/unknown'), {
      method: 'POST',
    })
    expect(unknown.status).toBe(404)
  })
})

/**
 * Sends bytes as they are, over a socket: header values no HTTP client would send (control
 * characters, Latin-1, CR and LF). Resolves with the status of the first answer.
 */
function rawPost(path: string, headers: [string, string][], body: Buffer): Promise<number> {
  const { port, hostname } = new URL(gateway.url)
  const head = [
    `POST ${path} HTTP/1.1`,
    `host: ${hostname}:${port}`,
    'connection: close',
    `content-length: ${body.length}`,
    ...headers.map(([name, value]) => `${name}: ${value}`),
    '',
    '',
  ].join('\r\n')
  return new Promise((resolve, reject) => {
    const socket = connectTcp(Number(port), hostname)
    let answer = ''
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')))
    socket.on('error', reject)
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]
      if (status) resolve(Number(status))
      else reject(new Error(`no HTTP answer: ${JSON.stringify(answer.slice(0, 200))}`))
    })
    socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]))
  })
}

describe('hostile input (property)', () => {
  // No CR or LF: they would end the header line, making another request (Node's parser answers
  // that one); every other byte is fair, NUL and Latin-1 included.
  const noLineBreaks = (text: string) => !/[\r\n]/.test(text)
  const headerValue = fc.oneof(
    fc.string({ unit: 'binary-ascii', maxLength: 300 }).filter(noLineBreaks),
    fc.string({ unit: 'binary', maxLength: 50 }).filter(noLineBreaks),
    fc.constantFrom('', ' ', 'v1,', 'v1,=', '9'.repeat(30), '-1', 'v1,' + 'A'.repeat(2000)),
  )

  // Each part is either well-formed or hostile, so many runs are a good delivery but for the
  // signature: a forged one, one of another secret, or one over another body.
  const sometimes = <T>(good: fc.Arbitrary<T>) =>
    fc.option(fc.oneof(good, headerValue), { nil: undefined })
  const goodBody = fc
    .record({
      paymentId: fc.string({ minLength: 1, maxLength: 20 }),
      amount: fc.integer({ min: 1 }),
    })
    .map((p) => JSON.stringify(p))

  it('a bad signature never gets a 5xx and records nothing, whatever the headers and body', async () => {
    const before = await recordedCounts()
    const runs = { ...ran }
    let wellFormed = 0
    await fc.assert(
      fc.asyncProperty(
        sometimes(fc.stringMatching(/^[\x21-\x7e]{1,200}$/)),
        sometimes(fc.constant('now')),
        sometimes(
          fc.oneof(
            fc
              .uint8Array({ minLength: 32, maxLength: 32 })
              .map((b) => `v1,${Buffer.from(b).toString('base64')}`),
            fc.constant('another secret'),
            fc.constant('another body'),
          ),
        ),
        fc.option(fc.constantFrom('application/json', 'text/plain', 'application/json; x'), {
          nil: undefined,
        }),
        fc.oneof(
          goodBody,
          fc.string({ maxLength: 500 }),
          fc.json(),
          fc.uint8Array({ maxLength: 500 }),
        ),
        async (id, timestamp, signature, contentType, body) => {
          const bytes = Buffer.from(body)
          const seconds = String(Math.floor(Date.now() / 1000))
          const signedBy = (secretOf: string, over: Buffer) =>
            signedWebhookHeaders(secretOf, id ?? '', over)['webhook-signature']!
          const signatureValue =
            signature === 'another secret'
              ? signedBy(developmentWebhookSecret('someone else'), bytes)
              : signature === 'another body'
                ? signedBy(secret, Buffer.concat([bytes, Buffer.from(' ')]))
                : signature
          const headers = (
            [
              ['webhook-id', id],
              ['webhook-timestamp', timestamp === 'now' ? seconds : timestamp],
              ['webhook-signature', signatureValue],
              ['content-type', contentType],
            ] as [string, string | undefined][]
          ).filter((header): header is [string, string] => header[1] !== undefined)
          if (headers.length === 4 && timestamp === 'now') wellFormed++
          const status = await rawPost('/webhooks/payment-received', headers, bytes)
          expect(status).toBeGreaterThanOrEqual(400)
          expect(status).toBeLessThan(500)
        },
      ),
      { numRuns: 300 },
    )
    expect(wellFormed).toBeGreaterThan(10)
    expect(await recordedCounts()).toEqual(before)
    expect(ran).toEqual(runs)
  })

  it('a valid signature over any JSON body and any well-formed id never gets a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[\x21-\x7e]{1,200}$/),
        fc.oneof(
          fc.json({ maxDepth: 4 }),
          fc
            .record({ paymentId: fc.string({ maxLength: 120 }), amount: fc.double() })
            .map((p) => JSON.stringify(p)),
        ),
        async (id, body) => {
          const answer = await deliver(body, { id: `prop-${id}`.slice(0, 200) })
          expect(answer.status).toBeLessThan(500)
          expect(answer.body.operationId ?? answer.body.error?.code).toEqual(expect.any(String))
        },
      ),
      { numRuns: 60 },
    )
  })
})
