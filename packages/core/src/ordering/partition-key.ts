import { createHash } from 'node:crypto'

/**
 * The token a keyed event carries in its wire subject: 16 hex characters of the key's SHA-256.
 * Keys are hostile input (dots, wildcards, spaces, kilobytes); only this token reaches NATS, and
 * JetStream's `partition()` hashes it into the event's partition.
 */
export function partitionKeyOf(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16)
}

/** `partitionKey` matches this: what a delivered subject must carry to count as keyed. */
export const partitionKeyPattern = /^[0-9a-f]{16}$/

/**
 * The partition JetStream's subject transform puts a token in: FNV-1a (32 bits) of the token's
 * bytes, modulo the partition count, as nats-server's `partition(n, …)` computes it. The
 * framework never sends this number; it reads it to name the partition in the DLQ and tests.
 */
export function partitionOf(partitionKey: string, partitions: number): number {
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(partitionKey, 'utf8')) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % partitions
}
