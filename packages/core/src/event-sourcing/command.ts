import { ConcurrencyError } from '../errors.ts'
import {
  appendToStream,
  appendedBefore,
  takeOrdinals,
  type AppendDependencies,
  type AppendLineage,
  type AppendResult,
} from './append.ts'
import { foldStream, type AggregateOptions } from './fold.ts'
import type { StreamSnapshots } from './snapshots.ts'
import type { AnyNewStreamEvent, ResolvedStream, StreamEvent } from './stream-types.ts'

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
  deps: AppendDependencies & { snapshots: StreamSnapshots },
  stream: ResolvedStream,
  decider: Decider<State>,
  lineage: AppendLineage,
  { maxAttempts = 5 }: CommandOptions = {},
): Promise<CommandResult<State>> {
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1)
    throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`)
  for (let attempt = 1; ; attempt++) {
    const read = await foldStream(deps.reader, deps.snapshots, stream, decider)
    const { state } = read
    const events = await decider.decide(state)
    if (events.length === 0) return { state, events: [], position: read.position }
    if (await appendedBefore(deps.reader, stream, lineage, events, read.events)) {
      takeOrdinals(lineage, stream, events)
      return { state, events: [], position: read.position }
    }
    let appended: AppendResult
    try {
      // A conflict before the last attempt is read again below: no need to read its position.
      appended = await appendToStream(deps, stream, events, read.position, lineage, {
        actualOnConflict: attempt === maxAttempts,
        repeatChecked: true,
      })
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
