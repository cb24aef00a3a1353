import { createService, defineEvent, type Service } from '@event-driven/core'
import { createTestNamespace, getTestServers } from '@event-driven/testing'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { cliRunner } from './testing/cli.ts'

// `event-driven archive stream`: an operator moves an event-sourced stream's older events to S3
// (docs/event-sourcing.md); the service reads the whole stream back through its archive.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'cli streams')
const stream = { name: `${ns.subjectPrefix}_EVENTS`, subjectPrefix: ns.subjectPrefix }
const s3Env = {
  S3_URL: servers.s3.endpoint,
  S3_REGION: servers.s3.region,
  S3_ACCESS_KEY_ID: servers.s3.accessKeyId,
  S3_SECRET_ACCESS_KEY: servers.s3.secretAccessKey,
}
const env = { NATS_URL: servers.natsUrl, MONGODB_URL: servers.mongodbUrl }
const cli = cliRunner({
  database: ns.database,
  stream,
  env: { ...env, ...s3Env, ARCHIVE_BUCKET: ns.bucket },
})
const cliWithoutBucket = cliRunner({ database: ns.database, stream, env })

const TicketSold = defineEvent({
  subject: 'Ticket.sold',
  version: 1,
  schema: z.object({ seat: z.number().int() }),
})

let service: Service
afterAll(async () => {
  await service?.stop()
  await ns.cleanup()
})

describe('event-driven archive stream', () => {
  it('moves all but the last --keep events to S3; the service reads the stream whole', async () => {
    service = await createService({
      name: 'box-office',
      nats: servers.natsUrl,
      mongodb: servers.mongodbUrl,
      database: ns.database,
      stream,
      logger: pino({ level: 'silent' }),
      archive: {
        bucket: ns.bucket,
        s3: {
          endpoint: servers.s3.endpoint,
          region: servers.s3.region,
          credentials: {
            accessKeyId: servers.s3.accessKeyId,
            secretAccessKey: servers.s3.secretAccessKey,
          },
        },
      },
    })
    const shows = service.streams.define({ type: 'show', events: [TicketSold] })
    const op = await service.startOperation({ name: 'sell' })
    for (let n = 0; n < 30; n += 10)
      await op.appendToStream(
        shows.name('s1'),
        Array.from({ length: 10 }, (_, i) => ({ event: TicketSold, data: { seat: n + i } })),
      )
    const before = await service.streams.readStream(shows.name('s1'))

    expect(await cliWithoutBucket('archive', 'stream', 'show:s1')).toMatchObject({ code: 2 })
    expect(await cli('archive', 'stream', 'show:s1', '--keep', 'some')).toMatchObject({ code: 2 })
    expect(await cli('archive', 'stream')).toMatchObject({ code: 2 })
    const bad = await cli('archive', 'stream', 'no type')
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('must be "<type>:<id>"')

    const moved = await cli('archive', 'stream', 'show:s1', '--keep', '10')
    expect(moved).toMatchObject({ code: 0 })
    expect(moved.stdout).toMatch(
      new RegExp(
        `^moved 20 events of show:s1 to s3://${ns.bucket}/streams/type=show/[0-9a-f]{64}/1-20\\.jsonl\\.gz`,
      ),
    )
    expect((await cli('archive', 'stream', 'show:s1', '--keep', '10')).stdout).toContain(
      'nothing to move',
    )
    expect(await service.streams.readStream(shows.name('s1'))).toEqual(before)
  })
})
