import { headers as natsHeaders } from '@nats-io/transport-node'
import { describe, expect, it } from 'vitest'
import { messageSigner, signatureRefusal } from '../../publish/signature.ts'
import { fakeMessage } from '../../in-memory/fake-message.ts'
import { fakeGroup, noteDelivery } from '../../testing/fake-delivery.ts'
import { openDelivery } from '../delivery.ts'
import { verifySignature } from './verify-signature.ts'

const signer = messageSigner(Buffer.alloc(32, 7))

function signedMessage(body: string) {
  const h = natsHeaders()
  h.set('Nats-Msg-Id', 'e1')
  h.set('Event-Id', 'e1')
  signer.sign('events.Note.added', 'e1', h, body)
  return { h, body }
}

describe('verify signature', () => {
  it('lets a message the framework signed go on', async () => {
    const group = fakeGroup({ signer })
    const { h, body } = signedMessage('{"text":"hi"}')
    const delivery = openDelivery(
      fakeMessage({ subject: 'events.Note.added', data: body, headers: h }),
      group,
    )
    expect(await verifySignature(delivery, group)).toEqual({ kind: 'next', delivery })
  })

  it('refuses a message without a signature: untrusted, with the reason as its one attempt', async () => {
    const group = fakeGroup({ signer })
    const delivery = noteDelivery({}, group)
    const outcome = await verifySignature(delivery, group)
    expect(outcome).toMatchObject({
      kind: 'deadLetter',
      reason: signatureRefusal('missing'),
      trusted: false,
      attempts: [{ attempt: 1, streamSequence: 7, message: signatureRefusal('missing') }],
    })
    expect(outcome).not.toHaveProperty('ledgerKey')
  })

  it('refuses a signed message whose body was changed', async () => {
    const group = fakeGroup({ signer })
    const { h } = signedMessage('{"text":"hi"}')
    const delivery = openDelivery(
      fakeMessage({ subject: 'events.Note.added', data: '{"text":"changed"}', headers: h }),
      group,
    )
    expect(await verifySignature(delivery, group)).toMatchObject({
      kind: 'deadLetter',
      reason: signatureRefusal('invalid'),
      trusted: false,
    })
  })

  it('says what is wrong with headers that cannot be read', async () => {
    const group = fakeGroup({ signer })
    const delivery = noteDelivery({ headersError: new Error('bad header line') }, group)
    expect(await verifySignature(delivery, group)).toMatchObject({
      kind: 'deadLetter',
      reason: "the message's headers cannot be read (bad header line)",
      trusted: false,
    })
  })
})
