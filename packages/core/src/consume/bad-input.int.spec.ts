import { jetstream } from '@nats-io/jetstream'
import { connect, headers } from '@nats-io/transport-node'
import { createTestNamespace, eventually, getTestServers, rawPublish } from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import type { Service } from '../service.ts'
import { eventStore } from '../store/event-store.ts'
import { createTestService, dlqEntryIdOf } from '../testing/test-service.ts'
import { signedPublisher } from '../publish/signature.ts'

// Bad input never wastes retries: straight to the DLQ on its first delivery, with a reason.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'bad input')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const store = eventStore(mongo.db(ns.database))
const nc = await connect({ servers: servers.natsUrl })
const js = jetstream(nc)

const CommentCreated = defineEvent({
  subject: 'Comment.created',
  version: 1,
  schema: z.object({ commentId: z.string(), blogId: z.string(), content: z.string().max(1_000) }),
})

let service: Service
let publishSigned: Awaited<ReturnType<typeof signedPublisher>>
const handled: unknown[] = []
beforeAll(async () => {
  service = await createTestService(ns, servers, 'blogs')
  service.on(CommentCreated, { handler: 'countComment' }, async (event) => {
    handled.push(event.data)
  })
  await service.start()
  publishSigned = await signedPublisher(service.store, js)
})
afterAll(async () => {
  await service.stop()
  await nc.close()
  await mongo.close()
  await ns.cleanup()
})

/** Publishes as the framework would (signed), with content the framework would never send. */
async function publishRaw(
  id: string,
  body: string | Uint8Array,
  version?: string,
  format?: string,
) {
  const h = headers()
  h.set('Event-Id', id)
  h.set('Event-Created-At', new Date().toISOString())
  if (version) h.set('Event-Version', version)
  if (format) h.set('Event-Format', format)
  await publishSigned(`${ns.subjectPrefix}.Comment.created`, body, { msgID: id, headers: h })
}

async function dlqEntry(id: string) {
  return (await service.dlq.get(await dlqEntryIdOf(service, id, 'blogs.countComment')))!
}

describe('bad input on the wire', () => {
  it('a body that is not JSON goes to the DLQ on its first delivery, payload kept', async () => {
    await publishRaw('bad-json', '{"commentId": "c1", oops')
    const entry = await dlqEntry('bad-json')
    expect(entry.reason).toMatch(/^the body is not JSON \(.+\): \{"commentId": "c1", oops$/)
    expect(entry.payload).toBe('{"commentId": "c1", oops')
    expect(entry.attempts.map((a) => a.attempt)).toEqual([1])
  })

  it('data that fails the schema goes to the DLQ at once, naming each path and reason', async () => {
    await publishRaw(
      'bad-schema',
      JSON.stringify({ commentId: 'c2', blogId: 42, content: 'x'.repeat(1_001) }),
    )
    const entry = await dlqEntry('bad-schema')
    expect(entry.reason).toContain('Comment.created data is invalid:')
    expect(entry.reason).toContain('blogId: ')
    expect(entry.reason).toContain('content: ')
    expect(entry.attempts).toHaveLength(1)
  })

  it('a version no code handles goes to the DLQ at once', async () => {
    await publishRaw(
      'bad-version',
      JSON.stringify({ commentId: 'c3', blogId: 'b1', content: 'hi' }),
      '7',
    )
    const entry = await dlqEntry('bad-version')
    expect(entry.reason).toBe(
      'Comment.created version 7 is unknown here: this code knows versions 1 to 1; deploy the code that defines it, then redrive',
    )
    expect(entry.version).toBe(7)
  })

  it('an oversized but valid-JSON payload is refused by the schema, not retried', async () => {
    await publishRaw(
      'too-long',
      JSON.stringify({ commentId: 'c4', blogId: 'b1', content: 'y'.repeat(200_000) }),
    )
    const entry = await dlqEntry('too-long')
    expect(entry.reason).toMatch(/content: .*1000/)
    expect(entry.payload).toHaveLength(
      JSON.stringify({ commentId: 'c4', blogId: 'b1', content: 'y'.repeat(200_000) }).length,
    )
  })

  it('a body that is not UTF-8 is refused at once, its bytes kept exactly', async () => {
    const bytes = Uint8Array.from([0x7b, 0xff, 0xfe, 0x00, 0x7d])
    await publishRaw('not-utf8', bytes)
    const entry = await dlqEntry('not-utf8')
    expect(entry.reason).toBe('the body is not UTF-8 text, so not JSON (5 bytes)')
    expect(entry.payload).toBeNull()
    expect(Buffer.from(entry.payloadBase64, 'base64')).toEqual(Buffer.from(bytes))
  })

  it('a version that is not a number is refused as such, never read as version 1', async () => {
    await publishRaw(
      'version-abc',
      JSON.stringify({ commentId: 'c7', blogId: 'b1', content: 'hi' }),
      'abc',
    )
    const entry = await dlqEntry('version-abc')
    expect(entry.reason).toBe('Event-Version "abc" is not a version (a whole number from 1)')
    expect(entry.version).toBeUndefined()
    expect(entry.headers).toContainEqual({ name: 'Event-Version', value: 'abc' })
  })

  it('a message whose header lines no client can parse is refused, its bytes kept exactly', async () => {
    // Sent as a raw client would (HPUB over TCP): nats.js itself refuses to send such a name.
    const block = Buffer.from('NATS/1.0\r\nEvent-Id: raw-1\r\nBad Name é: x\r\n\r\n', 'utf8')
    const body = Buffer.from('{"commentId":"c8"}')
    await rawPublish(servers.natsUrl, [
      { subject: `${ns.subjectPrefix}.Comment.created`, headerBlock: block, body },
    ])
    const entry = await dlqEntry('raw-1')
    expect(entry.reason).toMatch(/^the message's headers cannot be read \(.+\)$/)
    expect(entry.trusted).toBe(false)
    const stored = (await store.dlq.findOne({ _id: entry._id }))!
    expect(Buffer.from(stored.headers.buffer).equals(block)).toBe(true)
    expect(Buffer.from(stored.payload.buffer).equals(body)).toBe(true)
  })

  it('none of them reached the handler or was retried; good input still flows', async () => {
    await publishRaw('good', JSON.stringify({ commentId: 'c5', blogId: 'b1', content: 'fine' }))
    await eventually(() =>
      expect(handled).toEqual([{ commentId: 'c5', blogId: 'b1', content: 'fine' }]),
    )
    expect(await store.failures.countDocuments()).toBe(0)
  })

  it('publish refuses invalid data with the path and reason, and records nothing', async () => {
    const op = await service.startOperation({ name: 'commentCreate' })
    await expect(
      op.publish(CommentCreated, { commentId: 'c6', blogId: 'b1' } as never),
    ).rejects.toThrow('Comment.created data is invalid: content: ')
    await expect(
      op.publish(CommentCreated, { commentId: 'c6', blogId: 'b1' } as never),
    ).rejects.toMatchObject({
      name: 'EventValidationError',
      issues: [{ path: 'content', message: expect.any(String) as string }],
    })
    expect(await store.outbox.countDocuments({ operationId: op.id })).toBe(0)
    expect(await store.events.countDocuments({ operationId: op.id })).toBe(0)
  })
})

describe('message formats on the wire (docs/upgrading.md)', () => {
  const data = (id: string) => JSON.stringify({ commentId: id, blogId: 'b1', content: 'hi' })

  it('a format from a newer version goes to the DLQ at once, saying to upgrade', async () => {
    await publishRaw('format-3', data('f3'), undefined, '3')
    const entry = await dlqEntry('format-3')
    expect(entry.reason).toBe(
      'the message is in format 3, written by a newer version of event-driven; this instance reads formats 1 and 2: upgrade it (docs/upgrading.md)',
    )
    expect(entry.attempts).toHaveLength(1)
    expect(entry.headers).toContainEqual({ name: 'Event-Format', value: '3' })
  })

  it('a format that is not a number is refused as such', async () => {
    await publishRaw('format-abc', data('fabc'), undefined, '2; drop')
    expect((await dlqEntry('format-abc')).reason).toBe(
      'Event-Format "2; drop" is not a format (a whole number from 1)',
    )
  })

  it('the previous format (no header, or 1) and the current one are handled alike', async () => {
    await publishRaw('format-none', data('f-none'))
    await publishRaw('format-1', data('f1'), undefined, '1')
    await publishRaw('format-2', data('f2'), undefined, '2')
    await eventually(() =>
      expect(handled.map((d) => (d as { commentId: string }).commentId)).toEqual(
        expect.arrayContaining(['f-none', 'f1', 'f2']),
      ),
    )
    expect(handled.map((d) => (d as { commentId: string }).commentId)).not.toContain('f3')
  })
})
