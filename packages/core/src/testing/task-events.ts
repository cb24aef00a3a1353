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
