import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger, logsForPeople } from './logger.ts'

function captured(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY })
  let text = ''
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()))
  return { stream, text: () => text }
}

describe('createLogger', () => {
  it('writes for people in a terminal or in development, JSON lines otherwise', () => {
    expect(logsForPeople({}, true)).toBe(true)
    expect(logsForPeople({ NODE_ENV: 'development' }, false)).toBe(true)
    expect(logsForPeople({ NODE_ENV: 'production' }, false)).toBe(false)
    expect(logsForPeople({ NODE_ENV: 'test' }, false)).toBe(false)
  })

  it('a development log line reads as text: level, message and fields, no JSON', () => {
    const out = captured(false)
    createLogger({}, { NODE_ENV: 'development' }, out.stream).info({ part: 'users' }, 'ready')
    expect(out.text()).toMatch(/INFO.*: ready\n\s+part: "users"/)
    expect(out.text()).not.toContain('"level"')
  })

  it('elsewhere a line is one JSON object, at LOG_LEVEL', () => {
    const out = captured(false)
    const logger = createLogger({}, { LOG_LEVEL: 'warn' }, out.stream)
    logger.info('not shown')
    logger.warn({ part: 'users' }, 'slow')
    const lines = out.text().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, part: 'users', msg: 'slow' })
  })
})
