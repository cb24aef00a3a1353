import { describe, expect, it } from 'vitest'
import { configFromEnv } from './config.ts'

const servers = { NATS_URL: 'nats://127.0.0.1:4222', MONGODB_URL: 'mongodb://127.0.0.1:27017/' }

describe('configFromEnv', () => {
  it('reads a development environment with defaults from the core', () => {
    const config = configFromEnv({ ...servers, NODE_ENV: 'development' })
    expect(config).toMatchObject({
      stream: { name: 'EVENTS', subjectPrefix: 'events', replicas: 1, partitions: 16 },
      port: 4000,
      rpcTimeoutMs: 10_000,
      retryBaseDelayMs: 1_000,
      authSecretIsDevelopmentDefault: true,
    })
  })

  it('reports every problem at once: missing URLs, numbers that are not, no AUTH_SECRET outside development', () => {
    let message = ''
    try {
      configFromEnv({
        PORT: 'eighty',
        RPC_TIMEOUT_MS: '-5',
        RELAY_INTERVAL_MS: '1.5',
        EVENTS_STREAM_PARTITIONS: '2048',
      })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toContain('NATS_URL is not set')
    expect(message).toContain('MONGODB_URL is not set')
    expect(message).toContain('PORT must be a whole number from 0 to 65535, got "eighty"')
    expect(message).toContain('RPC_TIMEOUT_MS must be a whole number of 1 or more, got "-5"')
    expect(message).toContain('RELAY_INTERVAL_MS must be a whole number of 1 or more, got "1.5"')
    expect(message).toContain(
      'EVENTS_STREAM_PARTITIONS must be a whole number from 1 to 1024, got "2048"',
    )
    expect(message).toContain('AUTH_SECRET is not set')
  })

  it('takes a production environment that sets AUTH_SECRET', () => {
    expect(
      configFromEnv({ ...servers, NODE_ENV: 'production', AUTH_SECRET: 's3cret' }),
    ).toMatchObject({ authSecret: 's3cret', authSecretIsDevelopmentDefault: false })
  })
})
