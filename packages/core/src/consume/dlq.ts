import { Binary } from 'mongodb'
import type { Logger } from 'pino'
import { recordPendingAlert } from '../alert/dlq-alerts.ts'
import type { AttemptError, DlqRecord, EventStore } from '../store/event-store.ts'
import { isDuplicateKey } from '../store/insert-new.ts'
import { storableLabel, storableText } from '../store/keys.ts'
import { currentFormat } from '../version/formats.ts'

/**
 * Everything a DLQ entry is made of: the message as it arrived (bytes and header block), its ids
 * as read from it, and why it was given up. A parked message carries the same (see `park.ts`).
 */
export interface DeadLetter {
  /** `dlqEntryId(eventId, consumerGroup, stream, streamSequence)`: one entry per failure cycle. */
  entryId: string
  /** The processed-ledger key, for deliveries that were checked against the ledger at all. */
  ledgerKey?: string
  eventId: string
  subject: string
  version?: number
  operationId?: string
  parentId?: string
  redriveOf?: string
  consumerGroup: string
  service: string
  handler: string
  reason: string
  attempts: AttemptError[]
  /** Signed by the framework: only such entries can be redriven. */
  trusted: boolean
  stream: string
  streamSequence: number
  body: Uint8Array
  headerBlock: Uint8Array
  /**
   * Set when an ordered consumer group gave the event up: its partition and key token. Later
   * events of that key (and of its partition) were handled after it; a redrive delivers it after
   * them, outside the order (`docs/ordering.md`).
   */
  ordering?: { partition: number; partitionKey: string }
}

/** The stored entry: ids from the message become labels; bytes are kept as they are. */
function dlqRecord(letter: DeadLetter, parkedAt?: Date): DlqRecord {
  return {
    _id: letter.entryId,
    format: currentFormat,
    eventId: storableLabel(letter.eventId),
    consumerGroup: letter.consumerGroup,
    service: letter.service,
    handler: letter.handler,
    subject: storableLabel(letter.subject),
    ...(letter.version === undefined ? {} : { version: letter.version }),
    ...(letter.operationId ? { operationId: storableLabel(letter.operationId) } : {}),
    ...(letter.parentId ? { parentId: storableLabel(letter.parentId) } : {}),
    ...(letter.redriveOf ? { redriveOf: storableLabel(letter.redriveOf) } : {}),
    payload: new Binary(letter.body),
    headers: new Binary(letter.headerBlock),
    trusted: letter.trusted,
    ...(letter.ordering ? { ordering: letter.ordering } : {}),
    reason: storableText(letter.reason),
    attempts: letter.attempts,
    status: 'open',
    stream: letter.stream,
    streamSequence: letter.streamSequence,
    createdAt: new Date(),
    ...(parkedAt ? { parkedAt } : {}),
  }
}

/**
 * Records a DLQ entry by one insert. The entry of a failure cycle is written once and never
 * replaced: writing the same cycle again (a redelivery after a lost `term`) finds it there.
 */
async function recordDeadLetter(
  store: EventStore,
  letter: DeadLetter,
  parkedAt?: Date,
): Promise<void> {
  try {
    await store.dlq.insertOne(dlqRecord(letter, parkedAt))
  } catch (error) {
    if (!isDuplicateKey(error)) throw error
  }
}

/**
 * Records a DLQ entry, then, with alerts on, the Slack alert it waits in: every path that writes
 * an entry (a delivery given up, the parked mover) raises its alert here. The entry is safe once
 * written, so an alert that cannot be recorded is logged, never a reason to write it again.
 */
export async function recordEntry(
  store: EventStore,
  letter: DeadLetter,
  options: { alertsOn: boolean; logger: Logger; parkedAt?: Date },
): Promise<void> {
  await recordDeadLetter(store, letter, options.parkedAt)
  if (!options.alertsOn) return
  await recordEntryAlert(store, letter).catch((error: unknown) =>
    options.logger.error(
      { err: error, entryId: letter.entryId },
      'could not record the Slack alert for this DLQ entry',
    ),
  )
}

/**
 * The Slack alert a new DLQ entry waits in (see `alert/dlq-alerts.ts`). What came from the
 * message is made storable as in the entry, so no content can keep its alert from being written.
 */
function recordEntryAlert(store: EventStore, letter: DeadLetter): Promise<void> {
  return recordPendingAlert(store, {
    _id: letter.entryId,
    service: letter.service,
    consumerGroup: letter.consumerGroup,
    subject: storableLabel(letter.subject),
    error: storableText(letter.attempts.at(-1)?.message ?? letter.reason),
    createdAt: new Date(),
  })
}
