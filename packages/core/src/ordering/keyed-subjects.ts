import { partitionKeyPattern } from './partition-key.ts'

// A keyed event travels as `<prefix>._k.<partitionKey>.<Entity>.<verb>`. The stream's subject
// transform stores it as `<prefix>._k.<partition>.<partitionKey>.<Entity>.<verb>`, and each
// partition's durable filters on its number. Unkeyed events keep `<prefix>.<Entity>.<verb>`.

const keyed = '_k'

/** The subject a keyed event is published on (the one its signature covers). */
export function keyedWireSubject(prefix: string, subject: string, partitionKey: string): string {
  return `${prefix}.${keyed}.${partitionKey}.${subject}`
}

/** The stream's subject transform: JetStream hashes the key token into one of `partitions`. */
export function partitionTransform(
  prefix: string,
  partitions: number,
): { src: string; dest: string } {
  return {
    src: `${prefix}.${keyed}.*.*.*`,
    dest: `${prefix}.${keyed}.{{partition(${partitions},1)}}.{{wildcard(1)}}.{{wildcard(2)}}.{{wildcard(3)}}`,
  }
}

/**
 * The partition count of a stream's transform when it is the framework's (`partitionTransform`),
 * else undefined: keyed events are then published unkeyed (see `docs/ordering.md`).
 */
export function partitionsOf(
  transform: { src?: string; dest?: string } | undefined,
  prefix: string,
): number | undefined {
  const count = /\{\{partition\((\d{1,4}),1\)\}\}/.exec(transform?.dest ?? '')?.[1]
  if (count === undefined) return undefined
  const partitions = Number(count)
  const expected = partitionTransform(prefix, partitions)
  return partitions >= 1 && transform?.src === expected.src && transform.dest === expected.dest
    ? partitions
    : undefined
}

/** What one partition's durable of a consumer group filters on. */
export function partitionFilter(prefix: string, partition: number, subject: string): string {
  return `${prefix}.${keyed}.${partition}.*.${subject}`
}

/** What an unordered consumer group of a keyed event filters on: every partition. */
export function anyPartitionFilter(prefix: string, subject: string): string {
  return `${prefix}.${keyed}.*.*.${subject}`
}

/** A keyed subject as stored, read back: its event subject, partition, key token, signed subject. */
export interface KeyedSubject {
  subject: string
  partition: number
  partitionKey: string
  /** The subject it was published (and signed) on, before the transform added the partition. */
  publishedSubject: string
}

/** Reads a stored keyed subject; undefined for anything else (an unkeyed or a malformed one). */
export function readKeyedSubject(prefix: string, stored: string): KeyedSubject | undefined {
  const start = `${prefix}.${keyed}.`
  if (!stored.startsWith(start)) return undefined
  const tokens = stored.slice(start.length).split('.')
  if (tokens.length !== 4) return undefined
  const [partition, partitionKey, entity, verb] = tokens as [string, string, string, string]
  if (!/^(0|[1-9]\d{0,3})$/.test(partition) || !partitionKeyPattern.test(partitionKey))
    return undefined
  const subject = `${entity}.${verb}`
  return {
    subject,
    partition: Number(partition),
    partitionKey,
    publishedSubject: keyedWireSubject(prefix, subject, partitionKey),
  }
}

/** A filter of a consumer group's durable as the event subject it consumes (keyed or not). */
export function filteredSubject(prefix: string, filter: string): string | undefined {
  const start = `${prefix}.`
  if (!filter.startsWith(start)) return undefined
  const rest = filter.slice(start.length)
  const keyedFilter = new RegExp(`^${keyed}\\.(?:\\d{1,4}|\\*)\\.\\*\\.(.+)$`).exec(rest)
  if (keyedFilter) return keyedFilter[1]
  return rest.startsWith('_') ? undefined : rest
}
