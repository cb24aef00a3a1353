import type { StandardSchemaV1 } from '@standard-schema/spec'
import { ConfigurationError, EventValidationError } from './errors.ts'
import { subjectPattern } from './names.ts'
import { partitionKeyOf } from './ordering/partition-key.ts'
import { checkUpcasterChain, upcast, type Upcasters } from './version/upcast.ts'

/** What `defineEvent` returns: the subject, the current version, and the schema of its data. */
export interface EventDefinition<Subject extends string = string, Data = unknown> {
  readonly subject: Subject
  /** The version this code publishes and handlers receive. */
  readonly version: number
  readonly schema: StandardSchemaV1<unknown, Data>
  /** The oldest version that may be stored or in flight; `upcasters` lift it to `version`. */
  readonly oldestVersion: number
  /** `upcasters[n]` lifts version `n` data to version `n + 1`. */
  readonly upcasters: Upcasters
  /**
   * The entity an event is about, for ordering: events of one key are handled in stream order
   * by each consumer group (`docs/ordering.md`). Absent: the event is unkeyed.
   */
  key?(data: Data): string | number
}

/** The data type of an event definition. */
export type EventData<D> = D extends EventDefinition<string, infer Data> ? Data : never

export interface DefineEventOptions<Subject extends string, Schema extends StandardSchemaV1> {
  /** `<Entity>.<pastTenseVerb>`, e.g. `User.nameUpdated`. */
  subject: Subject
  /** A positive integer; raise it when the data's shape changes. */
  version: number
  /** Any Standard Schema (zod, valibot, arktype…) of the current version's data. */
  schema: Schema
  /**
   * Lift stored data of older versions: `upcasters[n]` turns version `n` data into version
   * `n + 1`. Every version from `oldestVersion` to `version - 1` needs one; a gap is refused here.
   */
  upcasters?: Upcasters
  /** The oldest version still stored anywhere (MongoDB, the S3 archive, the stream). Default 1. */
  oldestVersion?: number
  /**
   * The entity the event is about (`(data) => data.userId`): each consumer group handles the
   * events of one key in stream order, across instances, with concurrency across keys. Any
   * string or number; only a hash of it travels. See `docs/ordering.md`.
   */
  key?: (data: StandardSchemaV1.InferOutput<Schema>) => string | number
}

/**
 * Defines an event: publishers and handlers of it get typed data, checked by `schema`.
 *
 * ```ts
 * const UserNameUpdated = defineEvent({ subject: 'User.nameUpdated', version: 2,
 *   schema: z.object({ userId: z.string(), firstName: z.string(), lastName: z.string() }),
 *   // version 1 had one `name` field
 *   upcasters: { 1: (v1: { userId: string; name: string }) => splitName(v1) } })
 * ```
 */
export function defineEvent<const Subject extends string, Schema extends StandardSchemaV1>(
  options: DefineEventOptions<Subject, Schema>,
): EventDefinition<Subject, StandardSchemaV1.InferOutput<Schema>> {
  if (!subjectPattern.test(options.subject)) {
    throw new ConfigurationError(
      `event subject "${options.subject}" must be <Entity>.<pastTenseVerb>, like User.nameUpdated`,
    )
  }
  if (!Number.isInteger(options.version) || options.version < 1) {
    throw new ConfigurationError(
      `${options.subject}: version must be a positive integer, got ${String(options.version)}`,
    )
  }
  if (typeof options.schema?.['~standard']?.validate !== 'function') {
    throw new ConfigurationError(`${options.subject}: schema must be a Standard Schema (zod, …)`)
  }
  const upcasters = Object.freeze({ ...options.upcasters })
  const oldestVersion = options.oldestVersion ?? 1
  checkUpcasterChain(options.subject, options.version, oldestVersion, upcasters)
  if (options.key !== undefined && typeof options.key !== 'function') {
    throw new ConfigurationError(`${options.subject}: key must be a function of the event's data`)
  }
  return Object.freeze({
    subject: options.subject,
    version: options.version,
    schema: options.schema,
    oldestVersion,
    upcasters,
    ...(options.key ? { key: options.key } : {}),
  })
}

/**
 * The partition key token of an event's data (`ordering/partition-key.ts`), or undefined for an
 * unkeyed event. Throws `EventValidationError` when the key function throws or returns neither a
 * string nor a finite number: nothing is recorded.
 */
export function partitionKeyOfData<Data>(
  definition: EventDefinition<string, Data>,
  data: Data,
): string | undefined {
  if (!definition.key) return undefined
  let key: unknown
  try {
    key = definition.key(data)
  } catch (error) {
    throw new EventValidationError(definition.subject, [
      {
        path: '',
        message: `its key function threw: ${(error as Error)?.message ?? String(error)}`,
      },
    ])
  }
  if (typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key)))
    return partitionKeyOf(String(key))
  throw new EventValidationError(definition.subject, [
    { path: '', message: `its key must be a string or a finite number, got ${typeof key}` },
  ])
}

/**
 * Data as stored or received (of `version`) in the definition's current shape: upcast, then
 * validated. Throws UnknownVersionError or EventValidationError.
 */
export async function readEventData<Data>(
  definition: EventDefinition<string, Data>,
  data: unknown,
  version: number,
): Promise<Data> {
  return validateEventData(definition, upcast(definition, data, version))
}

/** Validates data against a definition; returns the parsed data or throws EventValidationError. */
export async function validateEventData<Data>(
  definition: EventDefinition<string, Data>,
  data: unknown,
): Promise<Data> {
  const result = await definition.schema['~standard'].validate(data)
  if (!result.issues) return result.value
  throw new EventValidationError(
    definition.subject,
    result.issues.map((issue) => ({
      path: (issue.path ?? [])
        .map((segment) => String(typeof segment === 'object' ? segment.key : segment))
        .join('.'),
      message: issue.message,
    })),
  )
}
