import { join } from 'node:path'
import {
  createTestNamespace,
  eventually,
  freePort,
  getTestServers,
  startProcess,
} from '@event-driven/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { blogEnv } from './testing/blog-process.ts'

// `./dev.sh start` as a person runs it in a terminal, with servers given (so it starts none) and
// the checkout set up already (SETUP=skip: no install or build beside the other tests), then
// Ctrl-C: the terminal sends SIGINT to the command's process group.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'devstart')
const repo = join(import.meta.dirname, '..', '..', '..')
afterAll(() => ns.cleanup())

describe('./dev.sh start', () => {
  it('logs text for people, and Ctrl-C ends it with status 0 and no "Command failed"', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...servers.env,
      ...blogEnv(ns, servers, await freePort(), {
        ADMIN_PORT: String(await freePort()),
        ADMIN_API_KEYS: 'admin:dev-start-secret',
        ARCHIVE_BUCKET: '',
        LOG_LEVEL: 'info',
        SETUP: 'skip',
      }),
    }
    delete env.NODE_ENV // dev.sh makes it development
    // Its own process group, as a terminal's foreground job.
    const devStart = startProcess('bash', [join(repo, 'dev.sh'), 'start'], {
      cwd: repo,
      env,
      detached: true,
    })
    const group = -devStart.child.pid!
    try {
      await eventually(() => expect(devStart.output()).toContain('GraphQL: http://'), {
        timeoutMs: 60_000,
      })
      process.kill(group, 'SIGINT')
      expect(await devStart.exited, devStart.output()).toBe(0)
    } finally {
      if (devStart.child.exitCode === null) process.kill(group, 'SIGKILL')
    }
    const output = devStart.output()
    expect(output).not.toMatch(/Command failed|ELIFECYCLE/)
    // pino-pretty's lines: a level word and the message, not JSON objects.
    expect(output).toMatch(/INFO.*: /)
    expect(output).not.toContain('"level":')
  }, 120_000)
})
