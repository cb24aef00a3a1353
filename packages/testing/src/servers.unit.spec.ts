import { createServer } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { containerRuntimeCheck } from './container-runtime.ts'
import { dockerEngineAnswers } from './docker.ts'
import { getTestServers, NoTestServersError } from './servers.ts'

const noDocker = 'unix:///nonexistent/docker.sock'

describe('getTestServers', () => {
  it('without URLs and without a Docker engine, fails with one sentence naming the command', async () => {
    const attempt = getTestServers({ env: {}, dockerHost: noDocker })
    await expect(attempt).rejects.toBeInstanceOf(NoTestServersError)
    const message = await attempt.then(
      () => '',
      (error: Error) => error.message,
    )
    expect(message).toContain('NATS_URL, MONGODB_URL, S3_URL are not set')
    expect(message).toContain('./dev.sh test')
    expect(message).toContain('pnpm -s infra:up')
    expect(message.trim().split(/(?<=[.!?])\s+/)).toHaveLength(1)
  })

  it('names only the variables that are missing', async () => {
    const message = await getTestServers({
      env: { NATS_URL: 'nats://127.0.0.1:1' },
      dockerHost: noDocker,
    }).then(
      () => '',
      (error: Error) => error.message,
    )
    expect(message).toContain('MONGODB_URL, S3_URL are not set')
    expect(message).not.toContain('NATS_URL')
  })

  it('takes every server from the environment when all URLs are set, without asking Docker', async () => {
    const servers = await getTestServers({
      env: {
        NATS_URL: 'nats://127.0.0.1:4222',
        MONGODB_URL: 'mongodb://127.0.0.1:27017/',
        S3_URL: 'http://127.0.0.1:7070',
        S3_ACCESS_KEY_ID: 'key',
        S3_SECRET_ACCESS_KEY: 'secret',
      },
      dockerHost: noDocker,
    })
    expect(servers.source).toEqual({
      nats: 'environment',
      mongodb: 'environment',
      s3: 'environment',
    })
    expect(servers.s3).toEqual({
      endpoint: 'http://127.0.0.1:7070',
      region: 'us-east-1',
      accessKeyId: 'key',
      secretAccessKey: 'secret',
    })
    expect(servers.env.MONGODB_URL).toBe('mongodb://127.0.0.1:27017/')
  })
})

describe('dockerEngineAnswers', () => {
  const dirs: string[] = []
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

  it('is false when nothing listens on the socket', async () => {
    expect(await dockerEngineAnswers(noDocker)).toBe(false)
  })

  it('is true when something answers GET /_ping with 200 on the socket', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'docker-ping-'))
    dirs.push(dir)
    const socketPath = join(dir, 'docker.sock')
    const engine = createServer((req, res) =>
      res.writeHead(req.url === '/_ping' ? 200 : 404).end('OK'),
    )
    await new Promise<void>((resolve) => engine.listen(socketPath, resolve))
    try {
      expect(await dockerEngineAnswers(`unix://${socketPath}`)).toBe(true)
    } finally {
      engine.close()
    }
  })
})

describe('containerRuntimeCheck', () => {
  const found = () => Promise.resolve({})
  const none = () =>
    Promise.reject(new Error('Could not find a working container runtime strategy'))

  it('without a Docker host, asks testcontainers’ own detection, and says so when it finds none', async () => {
    expect(await containerRuntimeCheck(undefined, found).answers()).toBe(true)
    const missing = containerRuntimeCheck(undefined, none)
    expect(await missing.answers()).toBe(false)
    expect(missing.where).toContain('where testcontainers looks')
  })

  it('with a Docker host given, probes that host and never detects', async () => {
    let detected = false
    const check = containerRuntimeCheck(noDocker, () => {
      detected = true
      return found()
    })
    expect(await check.answers()).toBe(false)
    expect(detected).toBe(false)
    expect(check.where).toBe(`at ${noDocker}`)
  })

  it('on this machine, testcontainers’ detection decides the same way as its own client', async () => {
    const { getContainerRuntimeClient } = await import('testcontainers')
    const clientFound = await getContainerRuntimeClient().then(
      () => true,
      () => false,
    )
    expect(await containerRuntimeCheck(undefined).answers()).toBe(clientFound)
  })
})
