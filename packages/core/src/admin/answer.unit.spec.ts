import { describe, expect, it } from 'vitest'
import type { DlqEntry } from '../dlq/manage.ts'
import { dlqActionAnswer, dlqRefusalStatus } from './answer.ts'

describe('DLQ action answers', () => {
  it('a done action answers 200 with the entry as it is now', () => {
    const entry = { _id: 'd1', status: 'redriven' } as unknown as DlqEntry
    expect(dlqActionAnswer({ ok: true, entry })).toEqual({ status: 200, body: { entry } })
  })

  it('an unknown entry answers 404, a closed, lost or untrusted one 409, with the reason as the error', () => {
    expect(dlqActionAnswer({ ok: false, code: 'not-found', reason: 'no DLQ entry d9' })).toEqual({
      status: 404,
      body: { error: 'no DLQ entry d9' },
    })
    expect(
      dlqActionAnswer({
        ok: false,
        code: 'not-open',
        reason: 'the entry is redriven (redrive by ana at …): only open entries can be redriven',
      }),
    ).toEqual({
      status: 409,
      body: {
        error: 'the entry is redriven (redrive by ana at …): only open entries can be redriven',
      },
    })
  })

  it('the code decides the status, whatever the reason says', () => {
    expect(
      dlqActionAnswer({ ok: false, code: 'lost-race', reason: 'no DLQ entry d1' }).status,
    ).toBe(409)
    expect(
      dlqActionAnswer({ ok: false, code: 'not-found', reason: 'the entry is open' }).status,
    ).toBe(404)
    expect(dlqRefusalStatus).toEqual({
      'not-found': 404,
      'not-open': 409,
      'lost-race': 409,
      untrusted: 409,
      'format-unsupported': 409,
    })
  })
})
