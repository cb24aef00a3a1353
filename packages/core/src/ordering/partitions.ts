import type { JetStreamManager } from '@nats-io/jetstream'
import { consumerGroupOf, splitPartitionDurable } from '../consume/group-names.ts'
import { ConfigurationError } from '../errors.ts'
import { partitionsOf, partitionTransform } from './keyed-subjects.ts'

/** One partition of an ordered consumer group: its durable, and what waits in it. */
export interface PartitionLoad {
  partition: number
  durable: string
  pending: number
  inFlight: number
}

/** The stream's partitions of keyed events, and what waits in each ordered group's. */
export interface PartitionStatus {
  /** From the stream's subject transform; undefined when it is not the framework's. */
  partitions: number | undefined
  groups: { consumerGroup: string; partitions: PartitionLoad[] }[]
}

/** Reads the stream's partition count and every ordered group's partition durables. */
export async function partitionStatus(
  jsm: JetStreamManager,
  stream: { name: string; subjectPrefix: string },
): Promise<PartitionStatus> {
  const { config } = await jsm.streams.info(stream.name)
  const groups = new Map<string, PartitionLoad[]>()
  for await (const info of jsm.consumers.list(stream.name)) {
    const { partition } = splitPartitionDurable(info.name)
    if (partition === undefined) continue
    const consumerGroup = consumerGroupOf(info.name)
    groups.set(consumerGroup, [
      ...(groups.get(consumerGroup) ?? []),
      { partition, durable: info.name, pending: info.num_pending, inFlight: info.num_ack_pending },
    ])
  }
  return {
    partitions: partitionsOf(config.subject_transform, stream.subjectPrefix),
    groups: [...groups.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([consumerGroup, loads]) => ({
        consumerGroup,
        partitions: loads.sort((a, b) => a.partition - b.partition),
      })),
  }
}

/** What `changePartitions` did, or why it did nothing. */
export type PartitionChange =
  | {
      ok: true
      from: number | undefined
      to: number
      /** Durables of partitions past the new count, removed because nothing waited in them. */
      removed: string[]
      /** Durables past the new count that still hold events: run the change again once drained. */
      draining: PartitionLoad[]
    }
  | { ok: false; reason: string; busy: PartitionLoad[] }

/**
 * Sets the number of partitions of keyed events (docs/ordering.md, "Changing the partition
 * count"). A key may move to another partition, so its events are in order across the change only
 * when none of them waits: the change is refused while any ordered group has events pending or
 * in flight, unless `force`. New events follow the new count at once; running instances handle
 * the new partitions once restarted (until then those events wait in the stream). Durables of
 * partitions past a smaller count are removed once empty; run the change again to remove the
 * rest after they drain.
 */
export async function changePartitions(
  jsm: JetStreamManager,
  stream: { name: string; subjectPrefix: string },
  partitions: number,
  options: { force?: boolean } = {},
): Promise<PartitionChange> {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1_024)
    throw new ConfigurationError(
      `partitions must be a whole number from 1 to 1024, got ${partitions}`,
    )
  const before = await partitionStatus(jsm, stream)
  const busy = before.groups.flatMap((g) => g.partitions).filter((p) => p.pending + p.inFlight > 0)
  if (before.partitions !== partitions && busy.length > 0 && !options.force) {
    return {
      ok: false,
      reason: `${busy.length} partition(s) of ordered consumer groups have events waiting; a key that moves to another partition could be handled out of order. Stop the publishers of keyed events and wait until they drain, or force the change.`,
      busy,
    }
  }
  if (before.partitions !== partitions) {
    const { config } = await jsm.streams.info(stream.name)
    await jsm.streams.update(stream.name, {
      ...config,
      subject_transform: partitionTransform(stream.subjectPrefix, partitions),
    })
  }
  // Past the new count: no new event lands there now; remove the durables with nothing left.
  const after = await partitionStatus(jsm, stream)
  const past = after.groups.flatMap((g) => g.partitions).filter((p) => p.partition >= partitions)
  const removed: string[] = []
  const draining: PartitionLoad[] = []
  for (const load of past) {
    if (load.pending + load.inFlight > 0) draining.push(load)
    else {
      await jsm.consumers.delete(stream.name, load.durable)
      removed.push(load.durable)
    }
  }
  return { ok: true, from: before.partitions, to: partitions, removed, draining }
}
