// event-driven archive status|run: what waits for the S3 archive, and archiving it now.
import { connectEventStore, createArchiver } from '@event-driven/core/admin'
import { pino } from 'pino'
import { table } from './format.ts'
import { serverFlags, serverSettings, serversUsage, type Io, parseCommand } from './settings.ts'

const usage = `usage: event-driven archive status|run

  status   documents not yet archived (events, operations, failure records), batches in progress
  run      archive everything ready now, then exit (the services' archivers do this in the
           background; safe to run beside them)
${serversUsage}`

export async function runArchive(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, serverFlags, usage, io, 1)
  if (typeof parsed === 'number') return parsed
  const { values, positionals } = parsed
  const [command] = positionals
  if (command !== 'status' && command !== 'run') {
    io.err(usage)
    return 2
  }
  const settings = serverSettings(values, { nats: false })
  const { store, close } = await connectEventStore(settings.mongodb, settings.database)
  try {
    if (command === 'run') {
      if (!settings.archive) {
        io.err('name the bucket: ARCHIVE_BUCKET or --bucket (and S3_URL etc. for S3 itself)')
        return 2
      }
      const archiver = createArchiver({
        store,
        archive: { ...settings.archive, settleMs: 0 },
        logger: pino({ level: 'silent' }),
      })
      let total = 0
      for (let archived = -1; archived !== 0;) {
        archived = (await archiver.runOnce()).archived
        total += archived
      }
      io.out(
        `archived ${total} documents to s3://${settings.archive.bucket}/${settings.archive.prefix ?? ''}`,
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
