import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createService, defineEvent, type Service } from '@event-driven/core'
import { encodeAccount, encodeOperator, encodeUser, fmtCreds } from '@nats-io/jwt'
import { createAccount, createOperator, createUser } from '@nats-io/nkeys'
import {
  createTestNamespace,
  eventually,
  getTestServers,
  startNatsServer,
  type NatsServerProcess,
} from '@event-driven/testing'
import { pino } from 'pino'
import { z } from 'zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  inboxPrefixOf,
  jwtPermissions,
  servicePermissions,
  type SystemSubjects,
} from './nats-permissions.ts'

// A broker in operator (JWT) mode, as NGS/Synadia Cloud and `nsc`-managed servers run: users
// authenticate with a creds file (a user JWT signed by its account, and the user's nkey seed).
// Keys and JWTs are made here with @nats-io/nkeys and @nats-io/jwt; `nsc` makes the same files.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'nats creds')
const system: SystemSubjects = {
  stream: `${ns.subjectPrefix}_EVENTS`,
  subjectPrefix: ns.subjectPrefix,
  rpcPrefix: `${ns.subjectPrefix}_rpc`,
}

const EntryMade = defineEvent({
  subject: 'Entry.made',
  version: 1,
  schema: z.object({ amount: z.number() }),
})

let broker: NatsServerProcess
let service: Service | undefined
const handled: number[] = []
const creds: Record<'ledger' | 'reader', string> = { ledger: '', reader: '' }

beforeAll(async () => {
  const operator = createOperator()
  const account = createAccount()
  // JetStream in operator mode needs the server's own (system) account.
  const systemAccount = createAccount()
  const operatorJwt = await encodeOperator('test-operator', operator, {
    system_account: systemAccount.getPublicKey(),
  })
  const systemJwt = await encodeAccount('SYS', systemAccount, {}, { signer: operator })
  const accountJwt = await encodeAccount(
    'services',
    account,
    // No limits (a JWT's missing limits are zero), JetStream on.
    {
      limits: {
        conn: -1,
        subs: -1,
        data: -1,
        payload: -1,
        leaf: -1,
        imports: -1,
        exports: -1,
        wildcards: true,
        mem_storage: -1,
        disk_storage: -1,
        streams: -1,
        consumer: -1,
      },
    },
    { signer: operator },
  )
  broker = await startNatsServer(process.env, {
    config: () =>
      [
        `operator: ${operatorJwt}`,
        `system_account: ${systemAccount.getPublicKey()}`,
        'resolver: MEMORY',
        `resolver_preload: { ${account.getPublicKey()}: ${accountJwt}, ${systemAccount.getPublicKey()}: ${systemJwt} }`,
      ].join('\n'),
  })
  const userCreds = async (name: 'ledger' | 'reader', permissions = {}) => {
    const user = createUser()
    const jwt = await encodeUser(name, user, account, permissions)
    const file = join(broker.dir, `${name}.creds`)
    writeFileSync(file, fmtCreds(jwt, user), { mode: 0o600 })
    creds[name] = file
  }
  await userCreds(
    'ledger',
    jwtPermissions(servicePermissions(system, { name: 'ledger', entities: ['Entry'] })),
  )
  // May only read replies: no event subjects, no JetStream API.
  await userCreds('reader', { pub: { deny: ['>'] }, sub: { allow: ['_INBOX.>'] } })
}, 60_000)

afterAll(async () => {
  await service?.stop()
  await broker?.dispose()
  await ns.cleanup()
})

describe('a creds file (operator mode)', () => {
  it('a service with its creds publishes and consumes its events', async () => {
    service = await createService({
      name: 'ledger',
      nats: { servers: broker.url, credsFile: creds.ledger, inboxPrefix: inboxPrefixOf('ledger') },
      mongodb: servers.mongodbUrl,
      database: `${ns.database}_event_driven`,
      stream: { name: system.stream, subjectPrefix: system.subjectPrefix },
      logger: pino({ level: 'silent' }),
      stopOnSignals: false,
    })
    service.on(EntryMade, { handler: 'total' }, async (event) => {
      handled.push(event.data.amount)
    })
    await service.start()
    const op = await service.startOperation({ name: 'entryMake' })
    await op.publish(EntryMade, { amount: 42 })
    await op.complete()
    await eventually(() => expect(handled).toEqual([42]))
  })

  it('a user whose JWT grants nothing on JetStream cannot start a service', async () => {
    await expect(
      createService({
        name: 'reader',
        nats: { servers: broker.url, credsFile: creds.reader },
        mongodb: servers.mongodbUrl,
        database: `${ns.database}_event_driven`,
        stream: { name: system.stream, subjectPrefix: system.subjectPrefix },
        logger: pino({ level: 'silent' }),
        stopOnSignals: false,
      }),
    ).rejects.toThrow(/permission/i)
  })
})
