import { ConcurrencyError } from '../errors.ts'
import {
  appendToStream,
  childIdsOf,
  takeOrdinals,
  type AppendDependencies,
  type AppendLineage,
  type AppendResult,
} from './append.ts'
import type { ReadStreamOptions } from './read.ts'
import type { AnyNewStreamEvent, ResolvedStream, StreamEvent } from './stream-types.ts'

export interface AggregateOptions<State, Event = StreamEvent> {
  /** The state of an entity with no events yet. Called once per fold. */
  initialState: () => State
  /** The state after one more event. Pure: it runs on every read. */
  evolve: (state: State, event: Event) => State
  /** Fold only this range (e.g. `{ to: 10 }`: the state at position 10). Default: all. */
  read?: ReadStreamOptions
}

export interface AggregateResult<State> {
  state: State
  /** The stream's position the state was folded up to (with `read.to`, at most that). */
  position: number
  exists: boolean
}

/** The decide/evolve pattern for one kind of entity. */
export interface Decider<State, Event = StreamEvent, NewEvent = AnyNewStreamEvent> extends Omit<
  AggregateOptions<State, Event>,
  'read'
> {
  /**
   * What the command makes happen, given the current state: the events to append (none for a
   * command with nothing to do). Throw to refuse the command. It may run again, on a newer
   * state, when another writer appended first.
   */
  decide: (state: State) => readonly NewEvent[] | Promise<readonly NewEvent[]>
}

export interface CommandOptions {
  /** Reads and decisions before a run of conflicts gives up with ConcurrencyError. Default 5. */
  maxAttempts?: number
}

export interface CommandResult<State, Event = StreamEvent> {
  /** The state after the command's events. */
  state: State
  /** The events the command appended (none when it decided none, or appended them before). */
  events: Event[]
  /** The stream's position after them. */
  position: number
}

/**
 * Reads the stream, decides on its state, appends at the position read; when another writer
 * appended first, reads and decides again (up to `maxAttempts` times). A handler's run derives
 * its events' ids, so a redelivery finds them in the stream and appends nothing again; an
 * operation's command is run once per idempotency key by the gateway.
 */
export async function handleCommand<State>(
  deps: AppendDependencies,
  stream: ResolvedStream,
  decider: Decider<State>,
  lineage: AppendLineage,
  { maxAttempts = 5 }: CommandOptions = {},
): Promise<CommandResult<State>> {
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1)
    throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`)
  for (let attempt = 1; ; attempt++) {
    const read = await deps.reader.readStream(stream)
    const state = read.events.reduce(decider.evolve, decider.initialState())
    const events = await decider.decide(state)
    if (events.length === 0) return { state, events: [], position: read.position }
    const ids = childIdsOf(lineage, events)
    if (ids.length > 0 && read.events.some((e) => e.id === ids[0])) {
      // This run's events are in the stream: an earlier attempt appended them.
      takeOrdinals(lineage, events)
      return { state, events: [], position: read.position }
    }
    let appended: AppendResult
    try {
      appended = await appendToStream(deps, stream, events, read.position, lineage)
    } catch (error) {
      if (error instanceof ConcurrencyError && attempt < maxAttempts) continue
      throw error
    }
    return {
      state: appended.events.reduce(decider.evolve, state),
      events: appended.events,
      position: appended.position,
    }
  }
}
