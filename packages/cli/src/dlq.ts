import type {
  DlqEntryDetail,
  DlqFilter,
  DlqStatus,
  EventStoreTools,
} from '@event-driven/core/admin'
import { progressBar, shorten, table } from './format.ts'

/** What a command returns: its exit code (0 done, 1 refused or not found). */
type Outcome = number

export interface DlqCommandOptions {
  json: boolean
  by: string
  /** `'all'` only for `redrive --all`. */
  filter: DlqFilter | 'all'
  limit: number
  /** `list`: the page before's last entry (its `next`); the page holds older entries. */
  before?: string
  reason?: string
  note?: string
  out: (text: string) => void
  err: (text: string) => void
  /** True when stderr is a terminal: the progress bar redraws in place. */
  tty: boolean
}

const print = (options: DlqCommandOptions, value: unknown) =>
  options.out(JSON.stringify(value, null, 2))

export async function dlqList(
  service: EventStoreTools,
  options: DlqCommandOptions,
): Promise<Outcome> {
  const filter = options.filter === 'all' ? {} : options.filter
  const { entries, next } = await service.dlq.list(filter, {
    limit: options.limit,
    before: options.before,
  })
  if (options.json) {
    print(options, { entries, next })
    return 0
  }
  options.out(
    table(
      ['ID', 'STATUS', 'CONSUMER GROUP', 'SUBJECT', 'CREATED', 'REASON'],
      entries.map((e) => [
        e._id,
        e.status,
        e.consumerGroup,
        e.subject,
        e.createdAt.toISOString(),
        shorten(e.reason, 60),
      ]),
    ),
  )
  const shown = `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`
  options.out(next ? `${shown}; older ones: --before ${next}` : shown)
  return 0
}

export async function dlqShow(
  service: EventStoreTools,
  id: string,
  options: DlqCommandOptions,
): Promise<Outcome> {
  const entry = await service.dlq.get(id)
  if (!entry) {
    options.err(`no DLQ entry ${id}`)
    return 1
  }
  if (options.json) {
    print(options, entry)
    return 0
  }
  options.out(describe(entry))
  return 0
}

function describe(entry: DlqEntryDetail): string {
  return [
    `entry          ${entry._id}`,
    `status         ${entry.status}`,
    `consumer group ${entry.consumerGroup} (service ${entry.service}, handler ${entry.handler})`,
    `event          ${entry.eventId} ${entry.subject} v${entry.version ?? '?'}`,
    `operation      ${entry.operationId ?? '-'}   parent ${entry.parentId ?? '-'}`,
    `reason         ${entry.reason}`,
    ...(entry.trusted
      ? []
      : ['signed         no: not published by the framework; cannot be redriven']),
    ...(entry.redriveOf ? [`redrive of     ${entry.redriveOf}`] : []),
    ...(entry.ordering
      ? [
          `ordered        partition ${entry.ordering.partition}, key ${entry.ordering.partitionKey}: later events of its key were handled after it; a redrive delivers it after them`,
        ]
      : []),
    entry.payload === null
      ? `payload        (${Buffer.from(entry.payloadBase64, 'base64').length} bytes, not UTF-8; base64) ${shorten(entry.payloadBase64, 500)}`
      : `payload        ${shorten(entry.payload, 500)}`,
    'headers:',
    ...entry.headers.map((h) => `  ${h.name}: ${shorten(h.value, 200)}`),
    'attempts:',
    ...entry.attempts.map((a) => `  ${a.attempt}. ${a.at.toISOString()}  ${a.message}`),
    ...(entry.history?.length
      ? [
          'history:',
          ...entry.history.map(
            (h) =>
              `  ${h.action} by ${h.by} at ${h.at.toISOString()}${h.reason ? `: ${h.reason}` : ''}`,
          ),
        ]
      : []),
    ...(entry.cycles.length > 1
      ? [
          'cycles of this event in this consumer group (oldest first):',
          ...entry.cycles.map(
            (c) =>
              `  ${c.id}  ${c.status}  ${c.createdAt.toISOString()}${c.id === entry._id ? '  (this one)' : ''}`,
          ),
        ]
      : []),
  ].join('\n')
}

export async function dlqAct(
  service: EventStoreTools,
  action: 'redrive' | 'discard' | 'resolve',
  id: string,
  options: DlqCommandOptions,
): Promise<Outcome> {
  if (action === 'discard' && !options.reason) {
    options.err('discard needs --reason "why"')
    return 2
  }
  const result =
    action === 'redrive'
      ? await service.dlq.redrive(id, options.by)
      : action === 'discard'
        ? await service.dlq.discard(id, options.by, options.reason!)
        : await service.dlq.resolve(id, options.by, options.note)
  if (options.json) print(options, result)
  if (!result.ok) {
    if (!options.json) options.err(`refused: ${result.reason}`)
    return 1
  }
  if (!options.json) options.out(`${id}: ${result.entry.status}`)
  return 0
}

export async function dlqRedriveWhere(
  service: EventStoreTools,
  options: DlqCommandOptions,
): Promise<Outcome> {
  const report = await service.dlq.redriveWhere(options.filter, options.by, (done, total) => {
    if (options.tty) options.err(`\r${progressBar(done, total)}`)
    else if (done === total) options.err(progressBar(done, total))
  })
  if (options.tty && report.total > 0) options.err('\n')
  if (options.json) print(options, report)
  else {
    options.out(
      `redriven ${report.redriven.length} of ${report.total} open entr${report.total === 1 ? 'y' : 'ies'}`,
    )
    for (const { id, reason } of report.refused) options.out(`refused ${id}: ${reason}`)
  }
  return report.refused.length > 0 ? 1 : 0
}

export const dlqStatuses: readonly DlqStatus[] = ['open', 'redriven', 'discarded', 'resolved']
