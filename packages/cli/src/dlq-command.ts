// event-driven dlq list|show|redrive|discard|resolve: operate the dead letter queue.
import { openEventStore, type DlqStatus } from '@event-driven/core/admin'
import {
  dlqAct,
  dlqList,
  dlqRedriveWhere,
  dlqShow,
  dlqStatuses,
  type DlqCommandOptions,
} from './dlq.ts'
import { serverFlags, serverSettings, serversUsage, type Io, parseCommand } from './settings.ts'

const dlqUsage = `usage: event-driven dlq <command> [options]

commands:
  list                        entries, newest first (filters below; --limit N, default 50;
                              --before ID: the page after the one that ended at ID)
  show <id>                   one entry: payload, headers, every attempt's error, history
  redrive <id>                deliver again to its consumer group only
  redrive --consumer-group G  redrive every open entry the filters select, with progress
  redrive --all               redrive every open entry
  discard <id> --reason R     close it, with the reason
  resolve <id> [--note N]     mark it fixed by hand

filters: --service S --consumer-group G --subject S --event-id E
         --status open|redriven|discarded|resolved
options: --json  --by NAME (who acts; default $USER)
${serversUsage}`

export async function runDlq(argv: string[], io: Io): Promise<number> {
  const { err, out } = io
  const parsed = parseCommand(
    argv,
    {
      json: { type: 'boolean', default: false },
      by: { type: 'string' },
      service: { type: 'string' },
      'consumer-group': { type: 'string' },
      subject: { type: 'string' },
      'event-id': { type: 'string' },
      status: { type: 'string' },
      all: { type: 'boolean', default: false },
      limit: { type: 'string' },
      before: { type: 'string' },
      reason: { type: 'string' },
      note: { type: 'string' },
      ...serverFlags,
    },
    dlqUsage,
    io,
    2,
  )
  if (typeof parsed === 'number') return parsed
  const { values, positionals } = parsed
  const [command, id] = positionals
  if (!command) {
    err(dlqUsage)
    return 2
  }
  const status = values.status as DlqStatus | undefined
  if (status && !dlqStatuses.includes(status)) {
    err(`--status must be one of ${dlqStatuses.join(', ')}`)
    return 2
  }
  const limit = Number(values.limit ?? 50)
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    err('--limit must be a whole number from 1 to 500')
    return 2
  }
  const needsId = command === 'show' || command === 'discard' || command === 'resolve'
  const filter = {
    service: values.service,
    consumerGroup: values['consumer-group'],
    subject: values.subject,
    eventId: values['event-id'],
    status,
  }
  const byFilter = command === 'redrive' && !id
  const narrowed = Boolean(
    filter.service || filter.consumerGroup || filter.subject || filter.eventId,
  )
  if ((needsId && !id) || (byFilter && !narrowed && !values.all)) {
    err(
      `${command} needs an entry id${command === 'redrive' ? ', or filters (--consumer-group, --service, --subject, --event-id), or --all' : ''}\n\n${dlqUsage}`,
    )
    return 2
  }
  if (!['list', 'show', 'redrive', 'discard', 'resolve'].includes(command)) {
    err(`unknown command ${command}\n\n${dlqUsage}`)
    return 2
  }

  const settings = serverSettings(values, { nats: true })
  const service = await openEventStore({
    nats: settings.nats,
    mongodb: settings.mongodb,
    database: settings.database,
    stream: settings.stream,
  })
  const options: DlqCommandOptions = {
    json: values.json ?? false,
    by: values.by ?? process.env.USER ?? 'cli',
    filter: byFilter && values.all && !narrowed ? 'all' : filter,
    limit,
    before: values.before,
    reason: values.reason,
    note: values.note,
    out,
    err,
    tty: io.tty,
  }
  try {
    if (command === 'list') return await dlqList(service, options)
    if (command === 'show') return await dlqShow(service, id!, options)
    if (byFilter) return await dlqRedriveWhere(service, options)
    return await dlqAct(service, command as 'redrive' | 'discard' | 'resolve', id!, options)
  } finally {
    await service.close()
  }
}
