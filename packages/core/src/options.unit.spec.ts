import { describe, expect, it } from 'vitest'
import { resolveServiceOptions, serviceDefaults } from './options.ts'
import { currentFormat, previousFormat } from './version/formats.ts'

const base = { name: 'billing', nats: 'nats://127.0.0.1:4222', mongodb: 'mongodb://127.0.0.1' }

describe('service options', () => {
  it('publish the current message format by default, or the previous one on request', () => {
    expect(serviceDefaults.messageFormat).toBe(currentFormat)
    expect(resolveServiceOptions(base, {}).messageFormat).toBe(currentFormat)
    expect(
      resolveServiceOptions({ ...base, messageFormat: previousFormat }, {}).messageFormat,
    ).toBe(previousFormat)
  })

  it('refuse a message format this version cannot write, with every other problem', () => {
    expect(() =>
      resolveServiceOptions({ ...base, ackWaitMs: 0, messageFormat: 3 as never }, {}),
    ).toThrow(
      'billing: 2 problems: ackWaitMs must be a number above 0, got 0; messageFormat must be 2 (current) or 1 (previous), got 3',
    )
  })
})
