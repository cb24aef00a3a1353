// A small event-sourced entity for the event store's tests and bench: a counter whose streams
// hold `Counter.added` (a number, and its place among a writer's appends) and `Counter.reset`.
import { z } from 'zod'
import { defineEvent } from '../event-definition.ts'
import type { StreamName } from '../event-sourcing/stream-types.ts'
import type { Service } from '../service.ts'

export const CounterAdded = defineEvent({
  subject: 'Counter.added',
  version: 1,
  schema: z.object({
    by: z.number().int(),
    writer: z.string().optional(),
    n: z.number().optional(),
  }),
})

export const CounterReset = defineEvent({
  subject: 'Counter.reset',
  version: 1,
  schema: z.object({}),
})

export const counterEvents = [CounterAdded, CounterReset] as const

export type CounterStream = StreamName<typeof counterEvents>

export function defineCounters(service: Service) {
  return service.streams.define({ type: 'counter', events: counterEvents })
}

export interface CounterState {
  total: number
  added: number
}

/** The counter's decider parts: its state from its events. */
export const counter = {
  initialState: (): CounterState => ({ total: 0, added: 0 }),
  evolve: (
    state: CounterState,
    event: { subject: 'Counter.added'; data: { by: number } } | { subject: 'Counter.reset' },
  ): CounterState =>
    event.subject === 'Counter.added'
      ? { total: state.total + event.data.by, added: state.added + 1 }
      : { ...state, total: 0 },
}
