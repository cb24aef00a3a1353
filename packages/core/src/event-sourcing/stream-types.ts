import type { EventDefinition } from '../event-definition.ts'
import { ConfigurationError, StreamNameError } from '../errors.ts'
import type { DefinitionRegistry } from '../version/registry.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any data: the list is typed by each member
export type AnyEventDefinition = EventDefinition<string, any>

/** An event read from a stream, lifted to the current version of its definition. */
export interface StreamEvent<Subject extends string = string, Data = unknown> {
  id: string
  subject: Subject
  /** Its definition's current version: the data has that shape. */
  version: number
  /** The version it was stored in (older ones were upcast). */
  storedVersion: number
  data: Data
  /** Its place in the stream: 1 for the first event. */
  position: number
  operationId: string
  /** The operation, or the event whose handler appended it. */
  parentId: string
  createdAt: Date
}

/** The events a stream type holds, as reads return them: a union discriminated by `subject`. */
export type StreamEventOf<Events> = Events extends readonly AnyEventDefinition[]
  ? {
      [K in keyof Events]: Events[K] extends EventDefinition<infer Subject, infer Data>
        ? StreamEvent<Subject, Data>
        : never
    }[number]
  : StreamEvent

/** An event to append, untyped (inside the core). */
export interface AnyNewStreamEvent {
  event: EventDefinition<string, unknown>
  data: unknown
}

/** An event to append: its definition and its data. */
export type NewStreamEvent<Events = readonly AnyEventDefinition[]> =
  Events extends readonly AnyEventDefinition[]
    ? {
        [K in keyof Events]: Events[K] extends EventDefinition<string, infer Data>
          ? { event: Events[K]; data: Data }
          : never
      }[number]
    : { event: AnyEventDefinition; data: unknown }

/**
 * A stream's name, `<type>:<id>`, carrying (for the compiler only) the events its type holds, so
 * reads, folds and appends on it are typed. Any string is a stream name too, untyped.
 */
export type StreamName<Events = unknown> = string & { readonly __streamEvents?: Events }

/** One kind of event-sourced entity (`blog`), as `service.streams.define` returns it. */
export interface StreamType<Events extends readonly AnyEventDefinition[]> {
  readonly type: string
  readonly events: Events
  /** The stream of one entity: `<type>:<id>`. */
  name(id: string): StreamName<Events>
}

export interface StreamTypeOptions<Events extends readonly AnyEventDefinition[]> {
  /** camelCase letters and digits, unique in the service: `blog`. */
  type: string
  /** Every event its streams may hold (older stored versions are upcast on read). */
  events: Events
}

const typePattern = /^[a-z][a-zA-Z0-9]*$/
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/
const maxIdLength = 200

/** The parts of a stream name; throws StreamNameError when it is not `<type>:<id>`. */
export function parseStreamName(name: unknown): { type: string; id: string } {
  if (typeof name !== 'string')
    throw new StreamNameError(`a stream name is a string "<type>:<id>", got ${typeof name}`)
  const colon = name.indexOf(':')
  const type = name.slice(0, colon)
  const id = name.slice(colon + 1)
  if (colon < 1 || !typePattern.test(type))
    throw new StreamNameError(
      `stream name ${JSON.stringify(name.slice(0, 100))} must be "<type>:<id>", the type camelCase letters and digits`,
    )
  if (id.length === 0 || id.length > maxIdLength || controlCharacters.test(id))
    throw new StreamNameError(
      `stream name ${JSON.stringify(name.slice(0, 100))}: the id must be 1 to ${maxIdLength} characters, without control characters`,
    )
  return { type, id }
}

/** The stream types of one service, and the definitions that read their events. */
export function streamTypeRegistry(service: string, definitions: DefinitionRegistry) {
  const types = new Map<string, Map<string, EventDefinition<string, unknown>>>()
  return {
    define<const Events extends readonly AnyEventDefinition[]>(
      options: StreamTypeOptions<Events>,
    ): StreamType<Events> {
      if (!typePattern.test(options.type))
        throw new ConfigurationError(
          `${service}: stream type ${JSON.stringify(options.type)} must be camelCase letters and digits`,
        )
      if (types.has(options.type))
        throw new ConfigurationError(`${service}: stream type "${options.type}" is defined twice`)
      if (!Array.isArray(options.events) || options.events.length === 0)
        throw new ConfigurationError(`${service}: stream type "${options.type}" needs its events`)
      const bySubject = new Map<string, EventDefinition<string, unknown>>()
      for (const definition of options.events as readonly EventDefinition<string, unknown>[]) {
        // One version per subject in the service, as for publishing and handling.
        definitions.check(definition)
        bySubject.set(definition.subject, definition)
      }
      types.set(options.type, bySubject)
      return Object.freeze({
        type: options.type,
        events: options.events,
        name: (id: string) => {
          const name = `${options.type}:${id}`
          parseStreamName(name)
          return name
        },
      })
    },
    /** The stream's type and id, and its type's definitions by subject; throws StreamNameError. */
    resolve(name: unknown) {
      const { type, id } = parseStreamName(name)
      const events = types.get(type)
      if (!events)
        throw new StreamNameError(
          `${service}: no stream type "${type}" is defined (service.streams.define({ type: '${type}', events }))`,
        )
      return { name: name as string, type, id, events }
    },
  }
}

export type StreamTypeRegistry = ReturnType<typeof streamTypeRegistry>
export type ResolvedStream = ReturnType<StreamTypeRegistry['resolve']>
