import { createHash } from 'node:crypto'

/**
 * Keys and labels for records whose content comes from a delivered message. Anything a message
 * carries is outside input: an id may hold any character and any length, and a server refuses
 * some of them (a NUL in a string on FerretDB, `_id` index entries past ~2.7 KB on PostgreSQL).
 * These functions turn such input into keys and labels that every server stores.
 */

/** Ids of this shape (the framework's own always are) stay readable in keys. */
const plainId = /^[\w.:-]{1,150}$/
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/g

function digest(...parts: string[]): string {
  // Length-prefixed, so no two lists of parts hash alike ('a/b' + 'c' is not 'a' + 'b/c').
  const hash = createHash('sha256')
  for (const part of parts) hash.update(`${part.length}:${part}\n`)
  return hash.digest('hex').slice(0, 32)
}

/**
 * Key of the per-(event, consumer group) records: the processed ledger and the failure record.
 * `<eventId>/<consumerGroup>` for plain ids (the framework's own, so existing records keep their
 * keys); a hash (`h:…`, never containing `/`) for any other id. A replay's deliveries have keys
 * of their own.
 */
export function deliveryKey(eventId: string, consumerGroup: string, replayId?: string): string {
  if (plainId.test(eventId) && (replayId === undefined || plainId.test(replayId)))
    return `${eventId}/${consumerGroup}${replayId === undefined ? '' : `#replay:${replayId}`}`
  return `h:${digest(eventId, consumerGroup, replayId ?? '')}`
}

/**
 * Id of one DLQ entry: one failure cycle of one message for one consumer group. The message is
 * named by its stream position, so writing the same cycle twice finds the entry already there,
 * and a redrive (a new message) or a message from outside that reuses the event id opens an
 * entry of its own instead of replacing one.
 */
export function dlqEntryId(
  eventId: string,
  consumerGroup: string,
  stream: string,
  streamSequence: number,
): string {
  return digest(eventId, consumerGroup, stream, String(streamSequence))
}

/**
 * Id of the claim of one position in an entity's stream: `<type>/<key>@<position>` for plain
 * keys, a hash (`h:…`) for any other key.
 */
export function changeClaimId(type: string, key: string, position: number): string {
  return plainId.test(key)
    ? `${type}/${key}@${position}`
    : `h:${digest(type, key, String(position))}`
}

/**
 * Id of one append to an event-sourced stream, by the stream's position before it:
 * `<type>:<id>@<position>` for plain ids, a hash (`h:…`) for any other.
 */
export function streamAppendId(stream: string, after: number): string {
  return plainId.test(stream)
    ? `${stream}@${after}`
    : `h:${digest('stream', stream, String(after))}`
}

/** Id of one stream's snapshot of one fold (`AggregateOptions.snapshot.name`). */
export function streamSnapshotId(stream: string, name: string): string {
  return plainId.test(stream) && plainId.test(name)
    ? `${stream}#${name}`
    : `h:${digest('snapshot', stream, name)}`
}

/** Longest label stored; the exact value stays in the entry's headers. */
const labelLength = 200

/**
 * A text from a message made fit to store, index and show: control characters become U+FFFD and
 * it is cut at 200 characters (with `…`). For display and filters only: never a key.
 */
export function storableLabel(text: string): string {
  const clean = text.replace(controlCharacters, '\uFFFD')
  return clean.length <= labelLength ? clean : `${clean.slice(0, labelLength - 1)}…`
}

/** A longer text (an error message, a reason) made fit to store: only NUL is replaced. */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD')
}
