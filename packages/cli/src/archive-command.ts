// event-driven archive status|run|stream: what waits for the S3 archive, and archiving it now.
import {
  archiveStreamHead,
  connectEventStore,
  createArchiver,
  s3Client,
} from '@event-driven/core/admin'
import { pino } from 'pino'
import { table } from './format.ts'
import { serverFlags, serverSettings, serversUsage, type Io, parseCommand } from './settings.ts'

const usage = `usage: event-driven archive status|run|stream <name> [--keep <n>]

  status          documents not yet archived (events, operations, failure records), batches in
                  progress
  run             archive everything ready now, then exit (the services' archivers do this in the
                  background; safe to run beside them)
  stream <name>   move the data of an event-sourced stream's older events (<type>:<id>) to S3,
                  keeping the last --keep (default 1000) in MongoDB (docs/event-sourcing.md)
${serversUsage}`

export async function runArchive(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(
    argv,
    { keep: { type: 'string', default: '1000' }, ...serverFlags },
    usage,
    io,
    2,
  )
  if (typeof parsed === 'number') return parsed
  const { values, positionals } = parsed
  const [command, streamName] = positionals
  const keep = Number(values.keep)
  if (
    (command !== 'status' && command !== 'run' && command !== 'stream') ||
    (command === 'stream' && (!streamName || !Number.isSafeInteger(keep) || keep < 0))
  ) {
    io.err(usage)
    return 2
  }
  const settings = serverSettings(values, { nats: false })
  const { store, close } = await connectEventStore(settings.mongodb, settings.database)
  try {
    if (command !== 'status' && !settings.archive) {
      io.err('name the bucket: ARCHIVE_BUCKET or --bucket (and S3_URL etc. for S3 itself)')
      return 2
    }
    if (command === 'stream') {
      const archive = { ...settings.archive!, s3: s3Client(settings.archive!.s3) }
      const moved = await archiveStreamHead(
        { store, archive, logger: pino({ level: 'silent' }) },
        streamName!,
        { keep },
      )
      io.out(
        moved.key
          ? `moved ${moved.events} events of ${streamName} to s3://${archive.bucket}/${moved.key}`
          : `nothing to move: ${streamName} has no events before its last ${keep} left in MongoDB`,
      )
      return 0
    }
    if (command === 'run') {
      const archiver = createArchiver({
        store,
        archive: { ...settings.archive!, settleMs: 0 },
        logger: pino({ level: 'silent' }),
      })
      let total = 0
      for (let archived = -1; archived !== 0;) {
        archived = (await archiver.runOnce()).archived
        total += archived
      }
      io.out(
        `archived ${total} documents to s3://${settings.archive!.bucket}/${settings.archive!.prefix ?? ''}`,
      )
      return 0
    }
    const waiting = { archivedAt: { $exists: false } }
    const rows = await Promise.all(
      (['events', 'operations', 'failures'] as const).map(async (kind) => [
        kind,
        String(await store[kind].countDocuments(waiting)),
        String(await store[kind].countDocuments()),
      ]),
    )
    io.out(table(['kind', 'not archived', 'in MongoDB'], rows))
    io.out(`batches in progress: ${await store.archiveBatches.countDocuments()}`)
    return 0
  } finally {
    await close()
  }
}
