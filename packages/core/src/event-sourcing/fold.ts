import type { StreamReader } from './read.ts'
import type { SnapshotOptions, StreamSnapshots } from './snapshots.ts'
import type { ResolvedStream, StreamEvent } from './stream-types.ts'
import type { ReadStreamOptions } from './read.ts'

export interface AggregateOptions<State, Event = StreamEvent> {
  /** The state of an entity with no events yet. Called once per fold. */
  initialState: () => State
  /** The state after one more event. Pure: it runs on every read. */
  evolve: (state: State, event: Event) => State
  /** Fold only this range (e.g. `{ to: 10 }`: the state at position 10). Default: all. */
  read?: ReadStreamOptions
  /**
   * Start from the latest snapshot of this fold and fold only the events after it; take a new
   * one every `every` events. The state is stored as a MongoDB document: plain data only. Not
   * with `read`.
   */
  snapshot?: SnapshotOptions
}

export interface AggregateResult<State> {
  state: State
  /** The stream's position the state was folded up to (with `read.to`, at most that). */
  position: number
  exists: boolean
}

/** A fold, and the events it read (those after the snapshot, when it started from one). */
export async function foldStream<State>(
  reader: StreamReader,
  snapshots: StreamSnapshots,
  stream: ResolvedStream,
  { initialState, evolve, read, snapshot }: AggregateOptions<State>,
): Promise<AggregateResult<State> & { events: StreamEvent[] }> {
  if (snapshot && read)
    throw new RangeError('a fold from a snapshot reads the whole stream: leave out read')
  if (snapshot) snapshots.check(snapshot)
  const base = snapshot ? await snapshots.read(stream.name, snapshot.name) : null
  const { events, position, exists } = await reader.readStream(
    stream,
    base ? { from: base.position + 1 } : read,
  )
  const state = events.reduce(evolve, base ? (base.state as State) : initialState())
  const last = events.at(-1)?.position ?? base?.position ?? 0
  if (snapshot && events.length >= (snapshot.every ?? 100))
    // A cache: a write that fails costs the next fold a longer read, nothing else.
    await snapshots.save(stream.name, snapshot.name, last, state).catch(() => undefined)
  return { state, position: read?.to === undefined ? position : last, exists, events }
}
