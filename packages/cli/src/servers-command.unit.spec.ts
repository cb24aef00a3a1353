import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { runServers, serversDataDir } from './servers-command.ts'

let work: string
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'event-driven-servers-'))
})
afterEach(() => rmSync(work, { recursive: true, force: true }))

it("keeps an app's servers beside its package.json, from any folder inside it", () => {
  writeFileSync(join(work, 'package.json'), '{}')
  mkdirSync(join(work, 'src', 'users'), { recursive: true })
  expect(serversDataDir(join(work, 'src', 'users'))).toBe(join(work, '.event-driven', 'servers'))
})

it('refuses what it does not know, and says how it is used', async () => {
  const lines: string[] = []
  const io = {
    out: (t: string) => void lines.push(t),
    err: (t: string) => void lines.push(t),
    tty: false,
  }
  expect(await runServers([], io)).toBe(2)
  expect(await runServers(['start'], io)).toBe(2)
  expect(await runServers(['up', 'now'], io)).toBe(2)
  expect(await runServers(['down', '--cluster'], io)).toBe(2)
  expect(lines.join('\n')).toContain('usage: event-driven servers up [--cluster]|down|status|env')
  expect(await runServers(['--help'], io)).toBe(0)
})
