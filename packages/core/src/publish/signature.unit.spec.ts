import { headers } from '@nats-io/transport-node'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { messageSigner, signatureHeader } from './signature.ts'

const signer = messageSigner(Buffer.alloc(48, 7))
const subject = 'events.Order.paid'
const body = Buffer.from('{"orderId":"o1","amount":10}')

function signedHeaders() {
  const h = headers()
  h.set('Event-Id', 'e1')
  h.set('Event-Version', '1')
  h.set('Operation-Id', 'op1')
  h.set('Parent-Id', 'op1')
  h.set('Event-Created-At', '2026-11-30T10:00:00.000Z')
  signer.sign(subject, 'e1', h, body)
  h.set('Nats-Msg-Id', 'e1') // JetStream carries the message id as a header
  return h
}

describe('message signatures', () => {
  it('a message as the framework signed it checks out', () => {
    expect(signer.verify(subject, signedHeaders(), body)).toBe('valid')
  })

  it('no signature, or none at all, is missing; another scheme is invalid', () => {
    const h = signedHeaders()
    h.delete(signatureHeader)
    expect(signer.verify(subject, h, body)).toBe('missing')
    expect(signer.verify(subject, undefined, body)).toBe('missing')
    h.set(signatureHeader, 'v2.abc')
    expect(signer.verify(subject, h, body)).toBe('invalid')
  })

  it('any change to the body, the subject, the message id or a covered header is invalid', () => {
    const covered = ['Event-Id', 'Event-Version', 'Operation-Id', 'Parent-Id', 'Event-Created-At']
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({ part: fc.constant('body'), value: fc.uint8Array({ maxLength: 64 }) }),
          fc.record({ part: fc.constant('subject'), value: fc.stringMatching(/^[a-z.]{1,20}$/) }),
          fc.record({ part: fc.constant('Nats-Msg-Id'), value: fc.string({ minLength: 1 }) }),
          fc.record({
            part: fc.constantFrom(
              ...covered,
              'Event-Redelivery',
              'Replay-Id',
              'Event-Subject',
              'Dlq-Redrive-Of',
              'Dlq-Letter',
            ),
            value: fc.string({ minLength: 1, maxLength: 30 }),
          }),
        ),
        ({ part, value }) => {
          const h = signedHeaders()
          let b: Uint8Array = body
          let s = subject
          if (part === 'body') b = value as Uint8Array
          else if (part === 'subject') s = value
          else h.set(part, (value as string).replace(/[\r\n]/g, ' ').trim() || 'x')
          const same =
            Buffer.from(b).equals(body) &&
            s === subject &&
            (part === 'body' ||
              part === 'subject' ||
              h.values(part).join() === signedHeaders().values(part).join())
          expect(signer.verify(s, h, b)).toBe(same ? 'valid' : 'invalid')
        },
      ),
    )
  })

  it('headers it does not cover may come and go; another key never checks out', () => {
    const h = signedHeaders()
    h.set('X-Trace', 'anything')
    expect(signer.verify(subject, h, body)).toBe('valid')
    expect(messageSigner(Buffer.alloc(48, 8)).verify(subject, h, body)).toBe('invalid')
  })
})
