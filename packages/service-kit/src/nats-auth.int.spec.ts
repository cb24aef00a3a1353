import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { defineEvent, type NatsOptions } from '@event-driven/core'
import { loadSigningSecret } from '@event-driven/core/admin'
import { jetstream } from '@nats-io/jetstream'
import { createUser } from '@nats-io/nkeys'
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node'
import {
  createTestNamespace,
  eventually,
  freePort,
  getTestServers,
  startNatsServer,
  type NatsServerProcess,
} from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { pino } from 'pino'
import { z } from 'zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signToken } from './auth.ts'
import type { ServiceConfig } from './config.ts'
import { startGateway, type Gateway } from './gateway.ts'
import { defineServiceModule, type RunningService } from './module.ts'
import {
  gatewayPermissions,
  inboxPrefixOf,
  natsAuthorizationConfig,
  servicePermissions,
  type NatsPermissions,
  type SystemSubjects,
} from './nats-permissions.ts'
import { requestSignatureHeader, requestSigner } from './request-signature.ts'
import { requireActor } from './rpc.ts'
import { createRuntime } from './runtime.ts'

// The perimeter on a broker that asks who you are: a nats-server with TLS and the users the
// project's permission builders describe. Each part runs with its own least-privileged user; a
// user without rights on event and request subjects is refused by the broker; a user with
// rights (a compromised or misconfigured peer) still cannot act as someone else, because
// services refuse requests the gateway did not sign.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'nats auth')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const system: SystemSubjects = {
  stream: `${ns.subjectPrefix}_EVENTS`,
  subjectPrefix: ns.subjectPrefix,
  rpcPrefix: `${ns.subjectPrefix}_rpc`,
}
const passwords = { gateway: 'gw-7f3a9c2e', billing: 'bl-51d0e8aa', mallory: 'ml-0c9e77d1' }
const intruderPassword = 'in-2b6f4d90'
const shipmentsKey = createUser()

const ShipmentLabelled = defineEvent({
  subject: 'Shipment.labelled',
  version: 1,
  schema: z.object({ to: z.string(), by: z.string() }),
})

const calls = { label: 0 }
const billed: string[] = []

// Publishes Shipment.labelled for the user who asked; billing (another service, another user)
// consumes it.
const shipments = defineServiceModule({
  name: 'shipments',
  async start(config, logger) {
    const runtime = await createRuntime('shipments', config, logger)
    await runtime.start({
      label: async (input, actor, call) => {
        calls.label++
        const { userId } = requireActor(actor)
        const op = await runtime.core.startOperation({
          id: call.operationId,
          name: 'shipmentLabel',
          actor: userId,
        })
        await op.publish(ShipmentLabelled, { to: (input as { to: string }).to, by: userId })
        await op.complete()
        return { operationId: op.id }
      },
    })
    return runtime
  },
  gateway: {
    typeDefs: /* GraphQL */ `
      type LabelPayload {
        operationId: ID!
      }
      type Mutation {
        shipmentLabel(to: String!): LabelPayload!
      }
    `,
    resolvers: (call) => ({
      Mutation: { shipmentLabel: (_, args, ctx) => call('label', args, ctx) },
    }),
  },
})

const billing = defineServiceModule({
  name: 'billing',
  async start(config, logger) {
    const runtime = await createRuntime('billing', config, logger)
    runtime.core.on(ShipmentLabelled, { handler: 'charge' }, async (event) => {
      billed.push(event.data.to)
    })
    await runtime.start({})
    return runtime
  },
})

/** A CA and a server certificate for 127.0.0.1, made with openssl in `dir`. */
function makeCertificates(dir: string) {
  const file = (name: string) => join(dir, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' })
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=event-driven test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  )
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
  )
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    file('san.ext'),
    '-out',
    file('server.pem'),
  )
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') }
}

let broker: NatsServerProcess
let ca = ''
let gateway: Gateway
const running: RunningService[] = []
const logged: Record<string, unknown>[] = []
const open: NatsConnection[] = []

function configFor(nats: Omit<NatsOptions, 'servers'>, port = 0): ServiceConfig {
  return {
    nats: { servers: broker.url, tls: { caFile: ca }, ...nats },
    mongodbUrl: servers.mongodbUrl,
    databasePrefix: `${ns.database}_`,
    stream: { name: system.stream, subjectPrefix: system.subjectPrefix },
    rpcPrefix: system.rpcPrefix,
    rpcTimeoutMs: 3_000,
    authSecret: 'test-auth-secret',
    authSecretIsDevelopmentDefault: false,
    host: '127.0.0.1',
    port,
    retryBaseDelayMs: 50,
    // The relay, the change settler and the sweeper run often, so their subjects are used too.
    relay: { intervalMs: 200, minAgeMs: 100 },
    operations: { sweepIntervalMs: 200 },
  }
}

async function connectAs(user: string, pass: string): Promise<NatsConnection> {
  const nc = await connect({ servers: broker.url, user, pass, tls: { caFile: ca } })
  open.push(nc)
  return nc
}

beforeAll(async () => {
  const none: NatsPermissions = { publish: [], subscribe: ['_INBOX.>'], allowResponses: false }
  broker = await startNatsServer(process.env, {
    scheme: 'tls',
    config: (dir) => {
      const files = makeCertificates(dir)
      ca = files.ca
      return [
        `tls { cert_file: ${JSON.stringify(files.cert)}, key_file: ${JSON.stringify(files.key)} }`,
        natsAuthorizationConfig([
          {
            nkey: shipmentsKey.getPublicKey(),
            permissions: servicePermissions(system, { name: 'shipments', entities: ['Shipment'] }),
          },
          {
            user: 'billing',
            password: passwords.billing,
            permissions: servicePermissions(system, { name: 'billing', entities: [] }),
          },
          { user: 'gateway', password: passwords.gateway, permissions: gatewayPermissions(system) },
          // Allowed to ask services, like a gateway: what a compromised peer could do.
          {
            user: 'mallory',
            password: passwords.mallory,
            permissions: { ...none, publish: [`${system.rpcPrefix}.>`] },
          },
          { user: 'intruder', password: intruderPassword, permissions: none },
        ]),
      ].join('\n')
    },
  })
  const seedFile = join(broker.dir, 'shipments.nk')
  writeFileSync(seedFile, new TextDecoder().decode(shipmentsKey.getSeed()), { mode: 0o600 })
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) },
  )
  // Each part with its own user and the inbox its permissions allow it (`_INBOX_<user>`).
  running.push(
    await shipments.start(
      configFor({ nkeySeedFile: seedFile, inboxPrefix: inboxPrefixOf('shipments') }),
      logger,
    ),
  )
  running.push(
    await billing.start(
      configFor({
        user: 'billing',
        pass: passwords.billing,
        inboxPrefix: inboxPrefixOf('billing'),
      }),
      logger,
    ),
  )
  gateway = await startGateway(
    configFor(
      { user: 'gateway', pass: passwords.gateway, inboxPrefix: inboxPrefixOf('gateway') },
      await freePort(),
    ),
    logger,
    [shipments, billing],
  )
}, 60_000)

afterAll(async () => {
  for (const nc of open) await nc.close()
  await gateway?.stop()
  for (const part of running) await part.stop()
  await broker?.dispose()
  await mongo.close()
  await ns.cleanup()
})

async function labelAs(userId: string, to: string) {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${signToken(userId, 'test-auth-secret')}`,
    },
    body: JSON.stringify({ query: `mutation { shipmentLabel(to: "${to}") { operationId } }` }),
  })
  return (await response.json()) as {
    data?: { shipmentLabel: { operationId: string } }
    errors?: { extensions: { code: string } }[]
  }
}

const operations = () => mongo.db(`${ns.database}_event_driven`).collection('operations')

describe('each part with its documented user, over TLS', () => {
  it('a mutation runs end to end: gateway (password) → shipments (nkey) → event → billing (password)', async () => {
    const answer = await labelAs('ada', 'Paris')
    expect(answer.errors).toBeUndefined()
    const { operationId } = answer.data!.shipmentLabel
    await eventually(() => expect(billed).toContain('Paris'))
    expect(await operations().findOne({ _id: operationId as never })).toMatchObject({
      actor: 'ada',
      status: 'completed',
    })
  })

  it('refuses a wrong password and a client that does not trust the CA', async () => {
    await expect(
      connect({ servers: broker.url, user: 'billing', pass: 'guess', tls: { caFile: ca } }),
    ).rejects.toThrow(/authorization/i)
    await expect(
      connect({ servers: broker.url, user: 'billing', pass: passwords.billing }),
    ).rejects.toThrow()
  })
})

describe('a client without rights on event and request subjects', () => {
  it('cannot publish an event: the broker refuses it, and no consumer group sees it', async () => {
    const nc = await connectAs('intruder', intruderPassword)
    const before = billed.length
    await expect(
      jetstream(nc).publish(
        `${system.subjectPrefix}.Shipment.labelled`,
        JSON.stringify({ to: 'Nowhere', by: 'intruder' }),
      ),
    ).rejects.toThrow(/permission/i)
    // A plain publish is dropped by the broker (the client hears of it asynchronously).
    nc.publish(`${system.subjectPrefix}.Shipment.labelled`, JSON.stringify({ to: 'Nowhere' }))
    await nc.flush()
    const answer = await labelAs('ada', 'Rome')
    expect(answer.errors).toBeUndefined()
    await eventually(() => expect(billed).toContain('Rome'))
    expect(billed.slice(before)).toEqual(['Rome'])
  })

  it('cannot send a request to a service', async () => {
    const nc = await connectAs('intruder', intruderPassword)
    const before = calls.label
    await expect(
      nc.request(
        `${system.rpcPrefix}.shipments.label`,
        JSON.stringify({ input: { to: 'Oslo' }, actor: { userId: 'ada' } }),
        { timeout: 2_000 },
      ),
    ).rejects.toThrow(/permission/i)
    expect(calls.label).toBe(before)
  })
})

describe('a client with rights on request subjects (a compromised peer)', () => {
  const subject = () => `${system.rpcPrefix}.shipments.label`
  const forged = JSON.stringify({
    input: { to: 'Lisbon' },
    actor: { userId: 'admin' },
    operationId: 'forged-1',
  })

  async function ask(signature?: string, body = forged, format?: string) {
    const nc = await connectAs('mallory', passwords.mallory)
    const headers = natsHeaders()
    if (signature !== undefined) headers.set(requestSignatureHeader, signature)
    if (format !== undefined) headers.set('Request-Format', format)
    const reply = await nc.request(subject(), body, { timeout: 3_000, headers })
    return reply.json<{ ok: boolean; error?: { code: string; message: string } }>()
  }

  it('a signed request in a format this version does not read is refused before it runs', async () => {
    const before = calls.label
    const signer = requestSigner(
      await loadSigningSecret({ db: mongo.db(`${ns.database}_event_driven`) }, undefined),
    )
    const body = JSON.stringify({ input: { to: 'Lisbon' }, actor: { userId: 'ada' } })
    const reply = await ask(signer.sign(subject(), body), body, '3')
    expect(reply).toEqual({
      format: 2,
      ok: false,
      error: {
        code: 'FORMAT_UNSUPPORTED',
        message:
          'the request is in format 3, written by a newer version of event-driven; this instance reads formats 1 and 2: upgrade it (docs/upgrading.md)',
      },
    })
    expect(calls.label).toBe(before)
  })

  it('cannot read the answers services give the gateway (each user has its own inbox)', async () => {
    const nc = await connectAs('mallory', passwords.mallory)
    const sub = nc.subscribe(`${inboxPrefixOf('gateway')}.>`)
    const closed = await sub.closed
    expect(String(closed)).toMatch(/permission/i)
  })

  it('a made-up actor without a signature, with a made-up one, or a replayed one on other input: refused and logged; nothing changes', async () => {
    const before = { calls: calls.label, billed: billed.length }
    const unsigned = await ask()
    expect(unsigned).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(unsigned.error!.message).toContain('has no Rpc-Signature')

    const madeUp = await ask(`v1.${Date.now()}.${Buffer.alloc(32, 7).toString('base64url')}`)
    expect(madeUp).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(madeUp.error!.message).toContain('does not match')

    const garbled = await ask('not a signature at all')
    expect(garbled).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })

    // A real signature (as if captured on the wire) of a request for ada, put on one for admin.
    const signer = requestSigner(
      await loadSigningSecret({ db: mongo.db(`${ns.database}_event_driven`) }, undefined),
    )
    const honest = JSON.stringify({ input: { to: 'Lisbon' }, actor: { userId: 'ada' } })
    const moved = await ask(signer.sign(subject(), honest))
    expect(moved).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(moved.error!.message).toContain('does not match')
    // The very request it was made for, sent again two minutes later: a replay.
    const stale = await ask(signer.sign(subject(), forged, Date.now() - 120_000))
    expect(stale).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(stale.error!.message).toContain('replayed')

    expect(calls.label).toBe(before.calls)
    expect(billed.length).toBe(before.billed)
    expect(await operations().findOne({ _id: 'forged-1' as never })).toBeNull()
    expect(logged).toContainEqual(
      expect.objectContaining({
        msg: 'refused a request: its signature is not valid',
        subject: subject(),
        check: 'missing',
      }),
    )
  })
})

describe('the documented permissions are enough', () => {
  it('no part logged a permission error while it ran (relay, sweeper and consumer groups included)', async () => {
    const answer = await labelAs('grace', 'Vienna')
    expect(answer.errors).toBeUndefined()
    await eventually(() => expect(billed).toContain('Vienna'))
    const violations = logged.filter((line) => /permission/i.test(JSON.stringify(line)))
    expect(violations).toEqual([])
  })
})
