/**
 * A consumer group's two names: `<service>.<handler>` in records, logs and the API, and
 * `<service>_<handler>` as its JetStream durable (a durable name cannot hold a dot). Service
 * names are lowercase letters, digits and dashes and handler names camelCase letters and digits,
 * so neither holds a dot or an underscore and each name converts to the other one way only.
 */

/** `blogs` + `updateAuthorName` → `blogs.updateAuthorName`. */
export function consumerGroupName(service: string, handler: string): string {
  return `${service}.${handler}`
}

/** A durable name from the service and the handler name: never from a position in a list. */
export function durableName(service: string, handler: string): string {
  return `${service}_${handler}`
}

/** `blogs.updateAuthorName` → `{ service: 'blogs', handler: 'updateAuthorName' }`; undefined without a dot. */
export function splitConsumerGroup(
  consumerGroup: string,
): { service: string; handler: string } | undefined {
  const dot = consumerGroup.indexOf('.')
  if (dot <= 0) return undefined
  return { service: consumerGroup.slice(0, dot), handler: consumerGroup.slice(dot + 1) }
}

/** `blogs.updateAuthorName` → `blogs_updateAuthorName`; a name without a dot is kept as it is. */
export function durableOf(consumerGroup: string): string {
  const names = splitConsumerGroup(consumerGroup)
  return names ? durableName(names.service, names.handler) : consumerGroup
}

/** The durable of one partition of an ordered consumer group: `blogs_onUserNameUpdated_p3`. */
export function partitionDurableName(durable: string, partition: number): string {
  return `${durable}_p${partition}`
}

/** `blogs_onUserNameUpdated_p3` → `{ durable: 'blogs_onUserNameUpdated', partition: 3 }`. */
export function splitPartitionDurable(name: string): { durable: string; partition?: number } {
  const match = /^([^_]+_[^_]+)_p(0|[1-9]\d{0,3})$/.exec(name)
  return match ? { durable: match[1]!, partition: Number(match[2]) } : { durable: name }
}

/**
 * `blogs_updateAuthorName` (or one of its partitions, `…_p3`) → `blogs.updateAuthorName`; a name
 * without an underscore is kept.
 */
export function consumerGroupOf(durable: string): string {
  const base = splitPartitionDurable(durable).durable
  const at = base.indexOf('_')
  return at > 0 ? consumerGroupName(base.slice(0, at), base.slice(at + 1)) : base
}
