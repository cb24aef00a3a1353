import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'

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
