import { createHash, randomBytes } from 'node:crypto'

function format(bytes: Buffer): string {
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

/**
 * A new UUID v7: time-ordered, so ids sort by creation and index inserts stay local.
 */
export function newId(now = Date.now()): string {
  const bytes = randomBytes(16)
  bytes.writeUIntBE(now, 0, 6)
  bytes[6] = (bytes[6]! & 0x0f) | 0x70
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  return format(bytes)
}

/**
 * The id of an event a handler publishes: the same for the same (parent event, consumer group,
 * subject, ordinal), so a retried handler re-emits the same ids and they deduplicate.
 * A UUID v8 (name-based, SHA-256).
 */
export function childEventId(
  parentEventId: string,
  consumerGroup: string,
  subject: string,
  ordinal: number,
): string {
  const bytes = createHash('sha256')
    .update(`${parentEventId}\n${consumerGroup}\n${subject}\n${ordinal}`)
    .digest()
    .subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x80
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  return format(bytes)
}
