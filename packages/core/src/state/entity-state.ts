import type { EventDefinition } from '../event-definition.ts'
import { ConfigurationError } from '../errors.ts'

/** One state change, as `EntityStateOptions.apply` receives it. */
export interface StateChange<State> {
  /** The kind of entity (`user`) and its key: together, the entity's stream. */
  type: string
  key: string
  /** The position this change took in the stream: 1 for the first change of an entity. */
  position: number
  state: State
  /** The event that announces it, and its operation. */
  eventId: string
  operationId: string
}

export interface EntityStateOptions<State> {
  /** The kind of entity, e.g. `user`: camelCase letters and digits, unique in the service. */
  type: string
  /**
   * Stores `change.state` as the entity's state at `change.position`, unless the stored state is
   * at that position or later. It runs when the change is made, and again when reconciliation
   * settles it (after a crash, and once more after every change), so it must be idempotent and
   * must never move state back: keep the position with the state and write only newer ones.
   */
  apply(change: StateChange<State>): Promise<void>
}

/** An entity kind whose state changes go with their events (`Operation.change`). */
export interface EntityState<State> {
  readonly type: string
  readonly apply: (change: StateChange<State>) => Promise<void>
}

/** What to change, and the event that announces it. */
export interface ChangeInput<State, Data> {
  /** The entity's key (its id, or any unique name of it). */
  key: string
  /**
   * The stream position the change was decided on: the position of the state that was read, 0
   * for an entity with no changes yet. The change takes the next position.
   */
  expectedPosition: number
  /**
   * When another change took that position first: `fail` (default) rejects with
   * `ConcurrencyError`; `next` takes the next free position (the last writer wins, for changes
   * that do not depend on the state they read, like setting a name).
   */
  onConflict?: 'fail' | 'next'
  /** The state at the position the change takes. */
  state: (position: number) => State
  event: EventDefinition<string, Data>
  /** The event's data, for the position the change takes. */
  data: (position: number) => Data
}

/** Where a change landed. */
export interface ChangeResult {
  position: number
  eventId: string
}

/** The steps of a change, in order; `onChangeStep` is called after each. */
export const changeSteps = ['held', 'claimed', 'applied', 'published'] as const
export type ChangeStep = (typeof changeSteps)[number]

const typePattern = /^[a-z][a-zA-Z0-9]*$/

/** The entity kinds of one service: reconciliation applies changes of these kinds only. */
export function entityRegistry(service: string) {
  const kinds = new Map<string, EntityState<unknown>>()
  return {
    define<State>(options: EntityStateOptions<State>): EntityState<State> {
      if (!typePattern.test(options.type))
        throw new ConfigurationError(
          `${service}: entity type ${JSON.stringify(options.type)} must be camelCase letters and digits`,
        )
      if (kinds.has(options.type))
        throw new ConfigurationError(`${service}: entity type "${options.type}" is defined twice`)
      const entity: EntityState<State> = {
        type: options.type,
        apply: (change) => options.apply(change),
      }
      kinds.set(options.type, entity as EntityState<unknown>)
      return entity
    },
    get: (type: string) => kinds.get(type),
  }
}

export type EntityRegistry = ReturnType<typeof entityRegistry>
