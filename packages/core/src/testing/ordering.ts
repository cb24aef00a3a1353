import { jetstream } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { readKeyedSubject } from '../ordering/keyed-subjects.ts'

/**
 * The first `count` `Task.updated` events of a stream, in stream order: per key, the `seq`s they
 * carry, and the partition JetStream stored each in (read from its subject).
 */
export async function streamOrderOf(
  nc: NatsConnection,
  stream: { name: string; subjectPrefix: string },
  count: number,
): Promise<{ order: Map<string, number[]>; partitions: { key: string; partition: number }[] }> {
  const consumer = await jetstream(nc).consumers.get(stream.name, {
    filter_subjects: [`${stream.subjectPrefix}._k.>`],
  })
  const order = new Map<string, number[]>()
  const partitions: { key: string; partition: number }[] = []
  const messages = await consumer.fetch({ max_messages: count, expires: 5_000 })
  for await (const msg of messages) {
    const { key, seq } = msg.json<{ key: string; seq: number }>()
    order.set(key, [...(order.get(key) ?? []), seq])
    const keyed = readKeyedSubject(stream.subjectPrefix, msg.subject)
    if (!keyed) throw new Error(`${msg.subject} is not a keyed subject as stored`)
    partitions.push({ key, partition: keyed.partition })
    if (partitions.length === count) break
  }
  return { order, partitions }
}
