import { connect } from '@nats-io/transport-node'
import { createTestNamespace, getTestServers, rawPublish } from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { loadRpcSettings, rpcClient, serveRpc } from './rpc.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'rpc')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const nc = await connect({ servers: servers.natsUrl })
const settings = await loadRpcSettings(mongo.db(ns.database), `${ns.subjectPrefix}_rpc`)
const logger = pino({ level: 'silent' })
let calls = 0
const subscription = serveRpc(
  nc,
  settings,
  'shipments',
  { label: async () => `label ${++calls}` },
  logger,
)
afterAll(async () => {
  subscription.unsubscribe()
  await nc.close()
  await mongo.close()
  await ns.cleanup()
})

describe('request-reply between the gateway and a service', () => {
  it('a request whose header lines no client can parse is refused, and the service keeps answering', async () => {
    const inbox = `${ns.subjectPrefix}_inbox.raw`
    const answers = nc.subscribe(inbox, { max: 1 })
    // Sent as a raw peer would (HPUB over TCP): nats.js refuses to send such a header name.
    await rawPublish(servers.natsUrl, [
      {
        subject: `${settings.prefix}.shipments.label`,
        reply: inbox,
        headerBlock: Buffer.from('NATS/1.0\r\nBad Name é: x\r\n\r\n', 'utf8'),
        body: Buffer.from(JSON.stringify({ input: {}, actor: null })),
      },
    ])
    for await (const answer of answers)
      expect(answer.json()).toEqual({
        format: 2,
        ok: false,
        error: { code: 'BAD_REQUEST', message: 'the request’s headers cannot be read' },
      })
    expect(calls).toBe(0)

    const client = rpcClient(nc, settings, logger)
    expect(await client.call('shipments', 'label', {})).toBe('label 1')
  })
})
