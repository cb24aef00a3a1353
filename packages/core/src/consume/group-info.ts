import type { JetStreamManager } from '@nats-io/jetstream'

/** A consumer group as JetStream sees it: what is pending, in flight, redelivered. */
export interface ConsumerGroupInfo {
  durable: string
  filterSubjects: string[]
  pending: number
  inFlight: number
  redelivered: number
  lastActive: string | null
}

/** Every consumer group (durable) of the stream, from JetStream. */
export async function listConsumerGroups(
  jsm: JetStreamManager,
  stream: string,
): Promise<ConsumerGroupInfo[]> {
  const groups: ConsumerGroupInfo[] = []
  for await (const info of jsm.consumers.list(stream)) {
    groups.push({
      durable: info.name,
      filterSubjects:
        info.config.filter_subjects ??
        (info.config.filter_subject ? [info.config.filter_subject] : []),
      pending: info.num_pending,
      inFlight: info.num_ack_pending,
      redelivered: info.num_redelivered,
      // The server sends a timestamp; the client's type says nanos: keep whichever came, as text.
      lastActive: info.delivered.last_active ? String(info.delivered.last_active) : null,
    })
  }
  return groups
}
