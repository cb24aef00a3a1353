import {
  appendClaimer,
  appendToStream,
  type AppendDependencies,
  type AppendLineage,
  type AppendOptions,
  type AppendResult,
} from './append.ts'
import {
  handleCommand,
  type AggregateOptions,
  type AggregateResult,
  type CommandOptions,
  type CommandResult,
  type Decider,
} from './command.ts'
import {
  knownBoundaries,
  streamReader,
  type ReadStreamOptions,
  type ReadStreamResult,
} from './read.ts'
import type {
  AnyEventDefinition,
  NewStreamEvent,
  StreamEventOf,
  StreamName,
  StreamType,
  StreamTypeOptions,
  StreamTypeRegistry,
} from './stream-types.ts'

/**
 * A service's event-sourced streams (`service.streams`): define the kinds of entity, read and
 * fold their streams. Appends belong to an operation or a handler's run (`op.appendToStream`,
 * `ctx.handleCommand`, …), so their events carry the chain's ids. See docs/event-sourcing.md.
 */
export interface EventStreams {
  /**
   * Defines a kind of entity (`blog`) and the events its streams hold; `name(id)` gives a typed
   * stream name. Define it in every instance: reads lift events with these definitions.
   */
  define<const Events extends readonly AnyEventDefinition[]>(
    options: StreamTypeOptions<Events>,
  ): StreamType<Events>
  /** A stream's events in order (a range with `from`/`to`), and its position. */
  readStream<Events>(
    name: StreamName<Events>,
    options?: ReadStreamOptions,
  ): Promise<ReadStreamResult<StreamEventOf<Events>>>
  /** Folds a stream's events into a state. */
  aggregateStream<State, Events>(
    name: StreamName<Events>,
    options: AggregateOptions<State, StreamEventOf<Events>>,
  ): Promise<AggregateResult<State>>
}

/** Appending, for an operation or a handler's run. */
export interface StreamWriter {
  /**
   * Appends events at the end of a stream, atomically: all of them or none. With a position
   * (or `no_stream` / `stream_exists`) that the stream is not at, rejects with ConcurrencyError
   * carrying the expected and actual positions; nothing was appended. Default `any`.
   */
  appendToStream<Events>(
    name: StreamName<Events>,
    events: readonly NewStreamEvent<Events>[],
    options?: AppendOptions,
  ): Promise<AppendResult<StreamEventOf<Events>>>
  /**
   * Read, decide, append at the position read; on a conflict, again (see `CommandOptions`).
   * Resolves with the new state and the events appended.
   */
  handleCommand<State, Events>(
    name: StreamName<Events>,
    decider: Decider<State, StreamEventOf<Events>, NewStreamEvent<Events>>,
    options?: CommandOptions,
  ): Promise<CommandResult<State, StreamEventOf<Events>>>
}

export type StreamsDependencies = Omit<AppendDependencies, 'reader' | 'claim'> & {
  types: StreamTypeRegistry
}

export function eventStreams(deps: StreamsDependencies) {
  const { types } = deps
  const reader = streamReader(deps.store, knownBoundaries())
  const appendDeps: AppendDependencies = { ...deps, reader, claim: appendClaimer(deps.store) }

  const streams: EventStreams = {
    define: (options) => types.define(options),
    readStream: async (name, options) =>
      (await reader.readStream(types.resolve(name), options)) as never,
    async aggregateStream(name, { initialState, evolve, read }) {
      const { events, position, exists } = await reader.readStream(types.resolve(name), read)
      const last = events.at(-1)?.position ?? 0
      return {
        state: events.reduce(evolve as never, initialState()),
        position: read?.to === undefined ? position : last,
        exists,
      }
    },
  }

  /** The writer for one operation, or one handler's run. */
  const writer = (lineage: AppendLineage): StreamWriter => ({
    appendToStream: async (name, events, options) =>
      (await appendToStream(
        appendDeps,
        types.resolve(name),
        events,
        options?.expectedStreamPosition ?? 'any',
        lineage,
      )) as never,
    handleCommand: async (name, decider, options) =>
      (await handleCommand(
        appendDeps,
        types.resolve(name),
        decider as never,
        lineage,
        options,
      )) as never,
  })

  return { streams, writer }
}

/** The writer where no event store is (the in-memory harness): every call says so. */
export const noStreamWriter = (): StreamWriter => {
  const refuse = () =>
    Promise.reject(
      new Error(
        'event-sourced streams need the event store (MongoDB): test this handler with a service on real servers',
      ),
    )
  return { appendToStream: refuse, handleCommand: refuse }
}
