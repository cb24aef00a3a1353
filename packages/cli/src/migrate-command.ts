// event-driven migrate: rewrite stored events to their definition's current version (--events),
// or the framework's own records to the current format (--framework).
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { EventDefinition } from '@event-driven/core'
import { connectEventStore, migrateEvents, migrateFramework } from '@event-driven/core/admin'
import { progressBar, table } from './format.ts'
import { serverFlags, serverSettings, serversUsage, type Io, parseCommand } from './settings.ts'

const usage = `usage: event-driven migrate --events <module> [--dry-run] [--batch-size N]
       event-driven migrate --framework [--dry-run] [--batch-size N] [--lease-ms N]

  --events M        a module (.ts or .js) that exports the event definitions (defineEvent); the
                    newest version of each subject counts; repeat for more modules. Stored events of those subjects and an older version are
                    lifted by the definitions' upcasters, validated, and rewritten in place.
  --framework       move the framework's own records (operations, events, ledger, failures, DLQ
                    entries, alerts, archive batches, ...) to the current format
                    (docs/upgrading.md). One run at a time: a second one says who holds the
                    lease and exits 3.
  --dry-run         count what would move (by subject and version, or by collection); write nothing
  --batch-size N    records per round trip (default 500)
  --lease-ms N      --framework: how long a run's lease lasts unless renewed (default 30000); a
                    run that was killed blocks the next one this long at most
Stopped midway, either picks up where it stopped when run again. Events in the S3 archive stay
as they were written; readers upcast them. Exit 1 when some events could not be lifted.
${serversUsage}`

export async function runMigrate(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      events: { type: 'string', multiple: true },
      framework: { type: 'boolean', default: false },
      'lease-ms': { type: 'string', default: '30000' },
      'dry-run': { type: 'boolean', default: false },
      'batch-size': { type: 'string', default: '500' },
      ...serverFlags,
    },
    usage,
    io,
  )
  if (typeof parsed === 'number') return parsed
  const { values } = parsed
  const batchSize = Number(values['batch-size'])
  if (values.framework) {
    const leaseMs = Number(values['lease-ms'])
    if (
      values.events?.length ||
      !Number.isInteger(batchSize) ||
      batchSize < 1 ||
      !(leaseMs >= 1_000)
    ) {
      io.err(
        `${values.events?.length ? '--framework and --events are separate runs' : '--batch-size must be a whole number ≥ 1 and --lease-ms at least 1000'}\n\n${usage}`,
      )
      return 2
    }
    return migrateFrameworkRecords(values, { batchSize, leaseMs, dryRun: values['dry-run'] }, io)
  }
  if (!values.events?.length || !Number.isInteger(batchSize) || batchSize < 1) {
    io.err(
      `${values.events?.length ? '--batch-size must be a whole number ≥ 1' : 'name the events module with --events'}\n\n${usage}`,
    )
    return 2
  }
  const definitions = newestPerSubject(
    (await Promise.all(values.events.map(loadDefinitions))).flat(),
  )
  if (definitions.length === 0) {
    io.err(`no event definitions are exported by ${values.events.join(', ')}`)
    return 2
  }

  const settings = serverSettings(values, { nats: false })
  const { store, close } = await connectEventStore(settings.mongodb, settings.database)
  try {
    const report = await migrateEvents({
      store,
      definitions,
      batchSize,
      dryRun: values['dry-run'],
      onProgress: ({ done, failed, total }) =>
        io.err(`${io.tty ? '\r' : ''}${progressBar(done + failed, total)}`),
    })
    if (io.tty && !report.dryRun && report.total > 0) io.err('')
    if (report.total === 0) {
      io.out('every stored event is at its current version')
      return 0
    }
    io.out(
      table(
        ['subject', 'from', 'to', 'events'],
        report.groups.map((g) => [g.subject, String(g.from), String(g.to), String(g.count)]),
      ),
    )
    if (report.dryRun) {
      io.out(`${report.total} events would be rewritten (dry run: nothing was written)`)
      return 0
    }
    io.out(`rewrote ${report.migrated} of ${report.total} events`)
    for (const failure of report.failed) {
      io.err(
        `not lifted: ${failure.id} (${failure.subject} v${failure.version}): ${failure.reason}`,
      )
    }
    return report.failed.length > 0 ? 1 : 0
  } finally {
    await close()
  }
}

/** Every export of the module that is an event definition. */
async function loadDefinitions(path: string): Promise<EventDefinition<string, unknown>[]> {
  const module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>
  return Object.values(module).filter(isEventDefinition)
}

/** A module may keep older versions of a definition beside the current one: the newest counts. */
function newestPerSubject(
  definitions: EventDefinition<string, unknown>[],
): EventDefinition<string, unknown>[] {
  const newest = new Map<string, EventDefinition<string, unknown>>()
  for (const definition of definitions) {
    const known = newest.get(definition.subject)
    if (!known || definition.version > known.version) newest.set(definition.subject, definition)
  }
  return [...newest.values()]
}

function isEventDefinition(value: unknown): value is EventDefinition<string, unknown> {
  const candidate = value as Partial<EventDefinition<string, unknown>> | null
  return (
    typeof candidate?.subject === 'string' &&
    typeof candidate.version === 'number' &&
    typeof candidate.schema?.['~standard']?.validate === 'function' &&
    typeof candidate.upcasters === 'object'
  )
}

async function migrateFrameworkRecords(
  values: Parameters<typeof serverSettings>[0],
  run: { batchSize: number; leaseMs: number; dryRun: boolean },
  io: Io,
): Promise<number> {
  const settings = serverSettings(values, { nats: false })
  const { store, close } = await connectEventStore(settings.mongodb, settings.database)
  try {
    const report = await migrateFramework({
      store,
      ...run,
      onProgress: ({ collection, done, total }) =>
        io.err(`${io.tty ? '\r' : ''}${progressBar(done, total)} ${collection}`),
    })
    if (io.tty && !report.dryRun && report.migrated > 0) io.err('')
    if (report.total === 0) {
      io.out('every framework record is in the current format')
      return 0
    }
    io.out(
      table(
        ['collection', 'records in an older format'],
        report.outdated.map((c) => [c.collection, String(c.count)]),
      ),
    )
    if (report.heldBy) {
      io.err(
        `another migration runs (${report.heldBy.holder}, its lease lasts until ${report.heldBy.until.toISOString()}): nothing was written; run again after it ends`,
      )
      return 3
    }
    if (report.dryRun) {
      io.out(`${report.total} records would be moved (dry run: nothing was written)`)
      return 0
    }
    io.out(`moved ${report.migrated} of ${report.total} records to the current format`)
    return 0
  } finally {
    await close()
  }
}
