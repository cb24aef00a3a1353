// event-driven replay: deliver stored or archived events to one consumer group, or print them.
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { finished } from 'node:stream/promises'
import {
  jsonLine,
  openEventStore,
  type EventSelection,
  type EventSource,
} from '@event-driven/core/admin'
import { progressBar } from './format.ts'
import { serverFlags, serverSettings, serversUsage, type Io, parseCommand } from './settings.ts'

const usage = `usage: event-driven replay <selection> (--to <service>.<handler> | --print | --out FILE)

selection (each narrows it):
  --subject S             an event subject, e.g. User.nameUpdated (repeat for more)
  --since T --until T     created at or after --since and before --until (ISO 8601)
  --operation ID          the events of one operation
  --consumer-group G      the subjects that consumer group consumes
source:
  --from auto|mongodb|s3  default auto: MongoDB, then the S3 archive for what MongoDB no longer holds
action:
  --to G                  deliver to consumer group G only (handlers see redelivery 'replay')
  --print                 write the events to stdout as JSON Lines, as stored
  --out FILE              write them to FILE as JSON Lines
  --dry-run               say how many events match, and do nothing
${serversUsage}`

const sources: EventSource[] = ['auto', 'mongodb', 's3']

export async function runReplay(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      subject: { type: 'string', multiple: true },
      since: { type: 'string' },
      until: { type: 'string' },
      operation: { type: 'string' },
      'consumer-group': { type: 'string' },
      from: { type: 'string', default: 'auto' },
      to: { type: 'string' },
      print: { type: 'boolean', default: false },
      out: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      ...serverFlags,
    },
    usage,
    io,
  )
  if (typeof parsed === 'number') return parsed
  const { values } = parsed
  const from = values.from as EventSource
  const actions = [values.to, values.print || undefined, values.out].filter(Boolean)
  const problem = !sources.includes(from)
    ? `--from must be one of ${sources.join(', ')}`
    : !values['dry-run'] && actions.length !== 1
      ? 'say where the events go: one of --to, --print, --out (or --dry-run)'
      : (invalidDate(values.since, '--since') ?? invalidDate(values.until, '--until'))
  if (problem) {
    io.err(`${problem}\n\n${usage}`)
    return 2
  }
  const select: EventSelection = {
    subjects: values.subject,
    since: values.since ? new Date(values.since) : undefined,
    until: values.until ? new Date(values.until) : undefined,
    operationId: values.operation,
    consumerGroup: values['consumer-group'],
  }

  const settings = serverSettings(values, { nats: true })
  const service = await openEventStore(settings)
  try {
    if (values.to) {
      const result = await service.replay({
        select,
        from,
        to: values.to,
        dryRun: values['dry-run'],
        onProgress: ({ done, total }) => io.err(`${io.tty ? '\r' : ''}${progressBar(done, total)}`),
      })
      if (io.tty && result.delivered > 0) io.err('')
      io.out(
        result.dryRun
          ? `${result.matched} events match; nothing was delivered (dry run)`
          : `replayed ${result.delivered} events to ${values.to} (replay ${result.replayId})`,
      )
      return 0
    }
    let count = 0
    const file = values.out ? createWriteStream(values.out) : undefined
    for await (const event of service.readEvents(select, from)) {
      count++
      if (values['dry-run']) continue
      const line = `${jsonLine(event)}\n`
      if (file) {
        if (!file.write(line)) await once(file, 'drain')
      } else process.stdout.write(line)
    }
    if (file) {
      file.end()
      await finished(file)
    }
    io.err(
      values['dry-run']
        ? `${count} events match`
        : `${count} events written${values.out ? ` to ${values.out}` : ''}`,
    )
    return 0
  } finally {
    await service.close()
  }
}

function invalidDate(value: string | undefined, flag: string): string | undefined {
  if (value === undefined || !Number.isNaN(new Date(value).getTime())) return undefined
  return `${flag} is not a date: ${value} (use ISO 8601, e.g. 2026-11-23T10:00:00Z)`
}
