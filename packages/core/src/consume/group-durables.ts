import { AckPolicy, DeliverPolicy, type ConsumerConfig } from '@nats-io/jetstream'
import { nanos } from '@nats-io/transport-node'
import { anyPartitionFilter, partitionFilter } from '../ordering/keyed-subjects.ts'
import { redriveSubject, wireSubject } from '../publish/wire.ts'
import type { ConsumerGroupContext } from './delivery.ts'
import { durableName, partitionDurableName } from './group-names.ts'

/** One durable consumer of a consumer group, and how many messages an instance pulls from it. */
export interface GroupDurable {
  durable: string
  config: Partial<ConsumerConfig> & { durable_name: string }
  maxMessages: number
}

/**
 * The durables behind a consumer group. Every group has its own (`<service>_<handler>`): its
 * event's unkeyed subject, and its redrive subject (redrives and replays reach no other group).
 * An ordered group (a keyed event on a partitioned stream) adds one durable per partition, each
 * with one message in flight across all instances: the next event of a partition is delivered
 * only once the one before it is settled (handled, or given up to the DLQ).
 */
export function groupDurables(
  context: Pick<
    ConsumerGroupContext,
    'service' | 'handlerName' | 'consumerGroup' | 'settings' | 'ordered'
  > & { definition: { subject: string; key?: unknown } },
  options: { concurrency: number; partitions: number | undefined },
): GroupDurable[] {
  const { subjectPrefix, ackWaitMs } = context.settings
  const subject = context.definition.subject
  const durable = durableName(context.service, context.handlerName)
  const base = (name: string, filters: string[], description: string) => ({
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs),
    // No limit: the framework counts failures and gives a message up only once it is recorded
    // (DLQ entry or parked), so JetStream never drops one on its own (see consume/park.ts).
    max_deliver: -1,
    filter_subjects: filters,
    deliver_policy: DeliverPolicy.All,
    description,
  })
  const keyed = Boolean(context.definition.key) && options.partitions !== undefined
  const ordered = keyed && Boolean(context.ordered)
  const own: GroupDurable = {
    durable,
    maxMessages: options.concurrency,
    config: base(
      durable,
      [
        wireSubject(subjectPrefix, subject),
        redriveSubject(subjectPrefix, durable),
        // An unordered group of a keyed event takes every partition here.
        ...(keyed && !ordered ? [anyPartitionFilter(subjectPrefix, subject)] : []),
      ],
      `consumer group ${context.consumerGroup}`,
    ),
  }
  if (!ordered) return [own]
  const partitions = Array.from({ length: options.partitions! }, (_, partition) => ({
    durable: partitionDurableName(durable, partition),
    maxMessages: 1,
    config: {
      ...base(
        partitionDurableName(durable, partition),
        [partitionFilter(subjectPrefix, partition, subject)],
        `consumer group ${context.consumerGroup}, partition ${partition}`,
      ),
      max_ack_pending: 1,
    },
  }))
  return [own, ...partitions]
}
