import type { JetStreamManager } from '@nats-io/jetstream'
import { splitPartitionDurable } from './group-names.ts'

/** A consumer group as JetStream sees it: what is pending, in flight, redelivered. */
export interface ConsumerGroupInfo {
  /** The group's own durable (`<service>_<handler>`); an ordered group's partitions are summed in. */
  durable: string
  /** What its durables filter on, as JetStream has it (an ordered group: one per partition). */
  filterSubjects: string[]
  pending: number
  inFlight: number
  redelivered: number
  lastActive: string | null
  /** An ordered group's partitions (durables `<durable>_p<n>`); absent for an unordered group. */
  partitions?: number
}

/** Every consumer group of the stream, from JetStream: one entry per group, its partitions summed. */
export async function listConsumerGroups(
  jsm: JetStreamManager,
  stream: string,
): Promise<ConsumerGroupInfo[]> {
  const groups = new Map<string, ConsumerGroupInfo>()
  for await (const info of jsm.consumers.list(stream)) {
    const { durable, partition } = splitPartitionDurable(info.name)
    const group = groups.get(durable) ?? {
      durable,
      filterSubjects: [],
      pending: 0,
      inFlight: 0,
      redelivered: 0,
      lastActive: null,
    }
    groups.set(durable, group)
    group.filterSubjects.push(
      ...(info.config.filter_subjects ??
        (info.config.filter_subject ? [info.config.filter_subject] : [])),
    )
    group.pending += info.num_pending
    group.inFlight += info.num_ack_pending
    group.redelivered += info.num_redelivered
    // The server sends a timestamp; the client's type says nanos: keep whichever came, as text.
    const lastActive = info.delivered.last_active ? String(info.delivered.last_active) : null
    if (lastActive && (!group.lastActive || lastActive > group.lastActive))
      group.lastActive = lastActive
    if (partition !== undefined) group.partitions = (group.partitions ?? 0) + 1
  }
  return [...groups.values()]
}
