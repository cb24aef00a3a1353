import { EventDrivenError, ErrorCodes } from '../errors.ts'

/**
 * The format of what the framework itself stores and sends (not the events' data: that is the
 * event's `version`). Every stored record carries `format`; every message the `Event-Format`
 * header. Records and messages written before formats existed carry neither: they are format 1.
 *
 * Readers accept the current format and the one before it, so an old and a new instance can
 * share a consumer group during a rolling deploy, and records written by the previous release
 * are read as they are. Anything else is refused with a reason that says what to do
 * (docs/upgrading.md): older records by running the framework migration, newer ones by
 * upgrading the instance that reads them.
 */
export const currentFormat = 2 as const

/** The oldest format readers accept without a migration: always `currentFormat - 1`. */
export const previousFormat = 1 as const

/** The formats an instance may write (`messageFormat`): the previous one during a rolling deploy. */
export type WritableFormat = typeof currentFormat | typeof previousFormat

/** The format a stored record or a message declares: absent means written before formats, 1. */
export function formatOf(declared: unknown): number {
  return declared === undefined || declared === null ? 1 : Number(declared)
}

/**
 * Why a format cannot be read here, or undefined when it can. `current` is this version's format
 * (a parameter so a test can speak for the next release, whose previous format is this one's).
 */
export function unreadableFormat(
  format: number,
  what: string,
  current: number = currentFormat,
): string | undefined {
  const previous = current - 1
  if (!Number.isInteger(format) || format < 1)
    return `${what} declares format ${String(format)}, which is not a format (a whole number from 1)`
  if (format > current)
    return `${what} is in format ${format}, written by a newer version of event-driven; this instance reads formats ${previous} and ${current}: upgrade it (docs/upgrading.md)`
  if (format < previous)
    return `${what} is in format ${format}, older than this version reads (${previous} and ${current}): run the framework migration first (\`event-driven migrate --framework\`, docs/upgrading.md)`
  return undefined
}

/** A stored record or a message in a format this version does not read. */
export class FormatError extends EventDrivenError {
  override name = 'FormatError'
  readonly code = ErrorCodes.FormatUnsupported
  readonly format: number
  constructor(format: number, reason: string) {
    super(reason)
    this.format = format
  }
}

/** Throws `FormatError` unless this version reads the record's format. */
export function assertReadable(record: { format?: unknown }, what: string): void {
  const format = formatOf(record.format)
  const reason = unreadableFormat(format, what)
  if (reason) throw new FormatError(format, reason)
}

/** A document as this version writes it: with the current format. */
export function inCurrentFormat<T extends object>(doc: T): T & { format: number } {
  return { ...doc, format: currentFormat }
}
