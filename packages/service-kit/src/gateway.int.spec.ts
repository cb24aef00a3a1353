import { createTestNamespace, eventually, freePort, getTestServers } from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServiceConfig } from './config.ts'
import { testServiceConfig } from './testing/service-config.ts'
import { startGateway, type Gateway } from './gateway.ts'
import { defineServiceModule, type RunningService } from './module.ts'
import { ServiceError } from './rpc.ts'
import { createRuntime } from './runtime.ts'

// Callers always learn what became of a mutation: its operation id comes with every answer,
// errors included; a service that does not answer in time is "outcome unknown", never a masked
// error; a service that is not there is "nothing was recorded". The operation is recorded first,
// under the gateway's id, and one whose process never ends it is ended as abandoned.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'gateway outcomes')
const mongo = await new MongoClient(servers.mongodbUrl).connect()

let release: () => void = () => {}
const calls = { label: 0, dispatch: 0, cancel: 0 }
const stuck = new Promise<void>((resolve) => (release = resolve))

const shipments = defineServiceModule({
  name: 'shipments',
  async start(config, logger) {
    const runtime = await createRuntime('shipments', config, logger)
    await runtime.start({
      // An answer larger than NATS carries (1 MB by default).
      manifest: async () => 'x'.repeat(1_500_000),
      label: async (input, _actor, call) => {
        calls.label++
        const op = await runtime.core.startOperation({
          id: call.operationId,
          name: 'shipmentLabel',
          input,
        })
        await op.complete()
        return { operationId: op.id, to: (input as { to: string }).to }
      },
      // Records the command, then never answers in time (as if its process hung or died).
      dispatch: async (_input, _actor, call) => {
        calls.dispatch++
        await runtime.core.startOperation({
          id: call.operationId,
          name: 'shipmentDispatch',
          deadlineMs: 500,
        })
        await stuck
        return { operationId: call.operationId }
      },
      cancel: async (_input, _actor, call) => {
        calls.cancel++
        const op = await runtime.core.startOperation({
          id: call.operationId,
          name: 'shipmentCancel',
        })
        await op.fail('the shipment has left the warehouse')
        throw new ServiceError('TOO_LATE', 'the shipment has left the warehouse')
      },
    })
    return runtime
  },
  gateway: {
    typeDefs: /* GraphQL */ `
      type ShipmentPayload {
        operationId: ID!
        to: String
      }
      type Query {
        shipmentsReady: Boolean!
        shipmentManifest: String
      }
      type Mutation {
        shipmentDispatch(idempotencyKey: String): ShipmentPayload!
        shipmentCancel(idempotencyKey: String): ShipmentPayload
        shipmentLabel(to: String!, idempotencyKey: String): ShipmentPayload!
      }
    `,
    resolvers: (call) => ({
      Query: {
        shipmentsReady: () => true,
        shipmentManifest: (_, __, ctx) => call('manifest', {}, ctx),
      },
      Mutation: {
        shipmentDispatch: (_, __, ctx) => call('dispatch', {}, ctx),
        shipmentCancel: (_, __, ctx) => call('cancel', {}, ctx),
        shipmentLabel: (_, args, ctx) => call('label', args, ctx),
      },
    }),
  },
})

// A module whose service is not running: its requests find no responder.
const returns = defineServiceModule({
  name: 'returns',
  start: () => Promise.reject(new Error('not started in this test')),
  gateway: {
    typeDefs: /* GraphQL */ `
      type Mutation {
        returnAccept: ShipmentPayload!
      }
    `,
    resolvers: (call) => ({ Mutation: { returnAccept: (_, __, ctx) => call('accept', {}, ctx) } }),
  },
})

let gateway: Gateway
let service: RunningService
let config: ServiceConfig
const logged: Record<string, unknown>[] = []
beforeAll(async () => {
  config = testServiceConfig(servers, ns, {
    rpcTimeoutMs: 700,
    port: await freePort(),
    operations: { sweepIntervalMs: 200 },
  })
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) },
  )
  service = await shipments.start(config, logger)
  gateway = await startGateway(config, logger, [shipments, returns])
})
afterAll(async () => {
  release()
  await gateway.stop()
  await service.stop()
  await mongo.close()
  await ns.cleanup()
})

/** An operation as the event store holds it. */
async function operation(id: string) {
  return mongo
    .db(`${ns.database}_event_driven`)
    .collection('operations')
    .findOne({ _id: id as never })
}

async function mutate(field: string) {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `mutation { ${field} { operationId } }` }),
  })
  return (await response.json()) as {
    errors?: { message: string; extensions: { code: string; operationId: string } }[]
  }
}

describe('what a caller learns when a mutation does not succeed', () => {
  it('no answer in time: OUTCOME_UNKNOWN with the operation id, logged; the operation was recorded first, then ends', async () => {
    const { errors } = await mutate('shipmentDispatch')
    expect(errors).toHaveLength(1)
    const [error] = errors!
    expect(error!.extensions).toMatchObject({
      code: 'OUTCOME_UNKNOWN',
      operationId: expect.any(String) as string,
    })
    const { operationId } = error!.extensions
    expect(error!.message).toContain(`operation(id: "${operationId}")`)
    expect(logged).toContainEqual(
      expect.objectContaining({
        operationId,
        msg: 'no answer in time: the outcome of this mutation is unknown',
      }),
    )
    expect(await operation(operationId)).toMatchObject({ name: 'shipmentDispatch' })
    // Its process never ends it: past its deadline the sweeper does.
    await eventually(
      async () =>
        expect(await operation(operationId)).toMatchObject({
          status: 'failed',
          error: expect.stringMatching(/^abandoned/) as string,
        }),
      { timeoutMs: 15_000, intervalMs: 200 },
    )
  })

  it('a refusal carries its code and the operation id; the operation is recorded as failed', async () => {
    const { errors } = await mutate('shipmentCancel')
    expect(errors![0]).toMatchObject({
      message: 'the shipment has left the warehouse',
      extensions: { code: 'TOO_LATE', operationId: expect.any(String) as string },
    })
    expect(await operation(errors![0]!.extensions.operationId)).toMatchObject({
      status: 'failed',
      error: 'the shipment has left the warehouse',
    })
  })

  it('no service to answer: SERVICE_UNAVAILABLE with the operation id, and nothing was recorded', async () => {
    const { errors } = await mutate('returnAccept')
    expect(errors![0]).toMatchObject({
      message: 'returnAccept is not available now: nothing was recorded; try again later',
      extensions: { code: 'SERVICE_UNAVAILABLE', operationId: expect.any(String) as string },
    })
  })

  it('every mutation field of one request has its own operation id', async () => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation { a: shipmentCancel { operationId } b: shipmentCancel { operationId } }',
      }),
    })
    const { errors } = (await response.json()) as {
      errors: { extensions: { operationId: string } }[]
    }
    expect(errors).toHaveLength(2)
    expect(errors[0]!.extensions.operationId).not.toBe(errors[1]!.extensions.operationId)
  })
})

describe('idempotency keys', () => {
  async function label(to: string, key: string, token?: string) {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}) },
      body: JSON.stringify({
        query:
          'mutation($to: String!, $key: String) { shipmentLabel(to: $to, idempotencyKey: $key) { operationId to } }',
        variables: { to, key },
      }),
    })
    return (await response.json()) as {
      data?: { shipmentLabel: { operationId: string; to: string } } | null
      errors?: { message: string; extensions: { code: string; operationId: string } }[]
    }
  }

  it('the same key applies a command once and answers the same; other input with it is refused', async () => {
    const before = calls.label
    const first = await label('Lisbon', 'label-1')
    const again = await label('Lisbon', 'label-1')
    expect(again.data).toEqual(first.data)
    expect(calls.label).toBe(before + 1)
    const other = await label('Porto', 'label-1')
    expect(other.errors![0]!.extensions).toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
      operationId: first.data!.shipmentLabel.operationId,
    })
    expect((await label('Porto', 'label-2')).data!.shipmentLabel.to).toBe('Porto')
    expect(calls.label).toBe(before + 2)
  })

  it('a repeat while the outcome is unknown says so with the same operation id, and runs nothing', async () => {
    const send = () => mutate('shipmentDispatch(idempotencyKey: "dispatch-1")')
    const first = await send()
    const again = await send()
    expect(first.errors![0]!.extensions.code).toBe('OUTCOME_UNKNOWN')
    expect(again.errors![0]!.extensions).toEqual(first.errors![0]!.extensions)
    expect(calls.dispatch).toBe(2) // the first test's call, and this one
  })

  it('a refusal is the answer to every repeat', async () => {
    const before = calls.cancel
    const first = await mutate('shipmentCancel(idempotencyKey: "cancel-1")')
    const again = await mutate('shipmentCancel(idempotencyKey: "cancel-1")')
    expect(again.errors![0]).toMatchObject({
      message: 'the shipment has left the warehouse',
      extensions: first.errors![0]!.extensions,
    })
    expect(calls.cancel).toBe(before + 1)
  })
})

describe('answers larger than NATS carries', () => {
  it('come back as ANSWER_TOO_LARGE, logged by the service, instead of a timeout', async () => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ shipmentManifest }' }),
    })
    const { errors } = (await response.json()) as { errors?: { extensions: { code: string } }[] }
    expect(errors?.[0]?.extensions.code).toBe('ANSWER_TOO_LARGE')
    expect(logged).toContainEqual(
      expect.objectContaining({ msg: 'the answer could not be sent', level: 50 }),
    )
  })
})
