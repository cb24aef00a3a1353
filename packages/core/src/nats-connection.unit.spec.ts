import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { natsConnectionOptions, natsOptionsFromEnv } from './nats-connection.ts'

const dir = mkdtempSync(join(tmpdir(), 'ed-nats-options-'))
const seedFile = join(dir, 'user.nk')
writeFileSync(seedFile, 'SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4\n')

describe('NATS settings', () => {
  it('reads URLs, credentials and TLS from the environment', () => {
    expect(
      natsOptionsFromEnv({
        NATS_URL: 'tls://a:4222, tls://b:4222',
        NATS_USER: 'users',
        NATS_PASSWORD: 'secret',
        NATS_TLS_CA_FILE: '/etc/ca.pem',
      }),
    ).toEqual({
      servers: ['tls://a:4222', 'tls://b:4222'],
      user: 'users',
      pass: 'secret',
      tls: { caFile: '/etc/ca.pem' },
    })
    expect(natsOptionsFromEnv({ NATS_URL: 'nats://x', NATS_TOKEN: 't' })).toEqual({
      servers: 'nats://x',
      token: 't',
    })
    expect(() => natsOptionsFromEnv({})).toThrow('NATS_URL is not set')
  })

  it('takes one way to authenticate, and says so when given several or half of one', () => {
    expect(() =>
      natsConnectionOptions({ servers: 'nats://x', token: 't', nkeySeedFile: seedFile }),
    ).toThrow(/one way to authenticate/)
    expect(() => natsConnectionOptions({ servers: 'nats://x', user: 'u' })).toThrow(
      /needs a password/,
    )
    expect(() =>
      natsConnectionOptions({ servers: 'nats://x', tls: { certFile: '/etc/cert.pem' } }),
    ).toThrow(/needs its key/)
  })

  it('reads key files at once, so a wrong path fails at start with its name', () => {
    expect(natsConnectionOptions({ servers: 'nats://x', nkeySeedFile: seedFile })).toMatchObject({
      authenticator: expect.any(Function) as unknown,
    })
    expect(() =>
      natsConnectionOptions({ servers: 'nats://x', credsFile: join(dir, 'missing.creds') }),
    ).toThrow(/cannot read the creds file .*missing\.creds/)
    expect(() =>
      natsConnectionOptions({ servers: 'nats://x', tls: { caFile: join(dir, 'no-ca.pem') } }),
    ).toThrow(/cannot read the TLS CA file/)
  })
})
