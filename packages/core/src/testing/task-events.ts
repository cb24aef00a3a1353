import type { Collection } from 'mongodb'
import { z } from 'zod'
import { defineEvent, type EventData } from '../event-definition.ts'
import type { ReceivedEvent } from '../consume/handler.ts'

/** The event of the task-service fixture. */
export const TaskCreated = defineEvent({
  subject: 'Task.created',
  version: 1,
  schema: z.object({ n: z.number().int() }),
})

/** One per event the fixture handled: how many runs reached the effect, and on which instances. */
export interface EffectRecord {
  _id: string
  n: number
  runs: number
  instances: string[]
}

/** The fixture's effect: one more run of `event` (on `instance`, when the test tells them apart). */
export async function recordEffect(
  effects: Collection<EffectRecord>,
  event: ReceivedEvent<EventData<typeof TaskCreated>>,
  instance?: string,
): Promise<void> {
  await effects.updateOne(
    { _id: event.id },
    {
      $inc: { runs: 1 },
      $set: { n: event.data.n },
      ...(instance === undefined
        ? { $setOnInsert: { instances: [] } }
        : { $push: { instances: instance } }),
    },
    { upsert: true },
  )
}

/** The keyed event of the fixture: the updates of one task key are handled in stream order. */
export const TaskUpdated = defineEvent({
  subject: 'Task.updated',
  version: 1,
  schema: z.object({ key: z.string(), seq: z.number().int() }),
  key: (data) => data.key,
})

/** Per key, the `seq`s of its `Task.updated` events in the order a handler applied them. */
export interface AppliedRecord {
  _id: string
  seqs: number[]
}

/**
 * The fixture's effect of a `Task.updated`: its seq appended to its key's list (not
 * order-tolerant), and one more run of the event counted in `effects`.
 */
export async function recordUpdate(
  collections: { applied: Collection<AppliedRecord>; effects: Collection<EffectRecord> },
  event: ReceivedEvent<EventData<typeof TaskUpdated>>,
  instance: string,
): Promise<void> {
  await collections.applied.updateOne(
    { _id: event.data.key },
    { $push: { seqs: event.data.seq } },
    { upsert: true },
  )
  await collections.effects.updateOne(
    { _id: event.id },
    { $inc: { runs: 1 }, $set: { n: event.data.seq }, $push: { instances: instance } },
    { upsert: true },
  )
}
