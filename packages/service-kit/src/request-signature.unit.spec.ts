import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { requestFreshnessMs, requestSigner } from './request-signature.ts'

const signer = requestSigner(randomBytes(48))
const encode = (text: string) => new TextEncoder().encode(text)

describe('request signatures', () => {
  it('a request as signed checks out', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (subject, body) => {
        expect(signer.check(subject, signer.sign(subject, body), encode(body))).toBe('valid')
      }),
    )
  })

  it('any other subject or body (a moved or edited request) does not', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.string(),
        fc.string(),
        fc.string(),
        (subject, body, otherSubject, otherBody) => {
          fc.pre(subject !== otherSubject || body !== otherBody)
          const signature = signer.sign(subject, body)
          expect(signer.check(otherSubject, signature, encode(otherBody))).toBe('invalid')
        },
      ),
    )
  })

  it('any other time in the signature does not (the time is covered)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -30_000, max: 30_000 }), (shift) => {
        fc.pre(shift !== 0)
        const now = Date.now()
        const [scheme, , mac] = signer.sign('rpc.users.get', '{}', now).split('.')
        const moved = `${scheme}.${now + shift}.${mac}`
        expect(signer.check('rpc.users.get', moved, encode('{}'), now)).toBe('invalid')
      }),
    )
  })

  it('hostile header values are refused, never thrown on', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (value) => {
        expect(['invalid', 'missing']).toContain(signer.check('rpc.a.b', value, encode('{}')))
      }),
    )
  })

  it('a signature older than the freshness window (a replay) is stale; a key of another system is invalid', () => {
    const now = Date.now()
    const old = signer.sign('rpc.users.get', '{}', now - requestFreshnessMs - 1)
    expect(signer.check('rpc.users.get', old, encode('{}'), now)).toBe('stale')
    const other = requestSigner(randomBytes(48)).sign('rpc.users.get', '{}', now)
    expect(signer.check('rpc.users.get', other, encode('{}'), now)).toBe('invalid')
    expect(signer.check('rpc.users.get', undefined, encode('{}'), now)).toBe('missing')
  })
})
