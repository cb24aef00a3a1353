import {
  appendClaimer,
  appendToStream,
  type AppendDependencies,
  type AppendLineage,
  type AppendOptions,
  type AppendResult,
} from './append.ts'
import type { Logger } from 'pino'
import {
  archivedEntries,
  archiveStreamHead,
  type ArchiveHeadOptions,
  type ArchiveHeadResult,
  type StreamArchive,
} from './archive-head.ts'
import { handleCommand, type CommandOptions, type CommandResult, type Decider } from './command.ts'
import { foldStream, type AggregateOptions, type AggregateResult } from './fold.ts'
import {
  knownBoundaries,
  streamReader,
  type ReadStreamOptions,
  type ReadStreamResult,
} from './read.ts'
import { streamSnapshots } from './snapshots.ts'
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
  /** Folds a stream's events into a state (from a snapshot, with `snapshot`). */
  aggregateStream<State, Events>(
    name: StreamName<Events>,
    options: AggregateOptions<State, StreamEventOf<Events>>,
  ): Promise<AggregateResult<State>>
  /**
   * Moves the data of the stream's older events to the S3 archive (the service's `archive`),
   * keeping the last `keep` in MongoDB. Reads of those positions fetch them from S3.
   */
  archiveHead(name: string, options?: ArchiveHeadOptions): Promise<ArchiveHeadResult>
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
  /** The service's S3 archive, where stream heads may move. */
  archive?: StreamArchive
  logger: Logger
}

export function eventStreams(deps: StreamsDependencies) {
  const { types, store } = deps
  const reader = streamReader(store, knownBoundaries(), archivedEntries(deps.archive))
  const snapshots = streamSnapshots(store)
  const appendDeps = { ...deps, reader, snapshots, claim: appendClaimer(store) }

  const streams: EventStreams = {
    define: (options) => types.define(options),
    readStream: async (name, options) =>
      (await reader.readStream(types.resolve(name), options)) as never,
    async aggregateStream(name, options) {
      const { state, position, exists } = await foldStream(
        reader,
        snapshots,
        types.resolve(name),
        options as AggregateOptions<unknown>,
      )
      return { state: state as never, position, exists }
    },
    archiveHead: (name, options) => archiveStreamHead(deps, types.resolve(name).name, options),
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
