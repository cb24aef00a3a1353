import { ConfigurationError, ErrorCodes, EventDrivenError } from '../errors.ts'

/**
 * Lifts data of one version to the next: `upcasters[n]` turns version `n` data into version
 * `n + 1`. Old data comes from JSON, so its shape is whatever that version wrote.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- stored data of an old version has no type here
export type Upcaster = (data: any) => unknown

export type Upcasters = Readonly<Record<number, Upcaster>>

/** A stored or received version this code cannot turn into its current one. */
export class UnknownVersionError extends EventDrivenError {
  override name = 'UnknownVersionError'
  readonly code = ErrorCodes.UnknownVersion
}

/**
 * Checks that `upcasters` lead from every version in `oldestVersion..version-1` to `version`,
 * and that none is keyed outside that range. Throws ConfigurationError naming the gap.
 */
export function checkUpcasterChain(
  subject: string,
  version: number,
  oldestVersion: number,
  upcasters: Upcasters,
): void {
  if (!Number.isInteger(oldestVersion) || oldestVersion < 1 || oldestVersion > version) {
    throw new ConfigurationError(
      `${subject}: oldestVersion must be an integer from 1 to ${version}, got ${String(oldestVersion)}`,
    )
  }
  for (const key of Object.keys(upcasters)) {
    const from = Number(key)
    if (!Number.isInteger(from) || from < oldestVersion || from >= version) {
      throw new ConfigurationError(
        `${subject}: an upcaster is keyed by the version it lifts, from ${oldestVersion} to ${version - 1}; got "${key}"`,
      )
    }
    if (typeof upcasters[from] !== 'function') {
      throw new ConfigurationError(
        `${subject}: the upcaster from version ${from} is not a function`,
      )
    }
  }
  for (let from = oldestVersion; from < version; from++) {
    if (!upcasters[from]) {
      throw new ConfigurationError(
        `${subject} version ${version}: no upcaster from version ${from} to ${from + 1}, so stored version ${from} events could not reach version ${version}; add upcasters[${from}] or raise oldestVersion`,
      )
    }
  }
}

/** Runs the upcasters from `from` up to `version`. Throws UnknownVersionError when it cannot. */
export function upcast(
  definition: { subject: string; version: number; oldestVersion: number; upcasters: Upcasters },
  data: unknown,
  from: number,
): unknown {
  const { subject, version, oldestVersion, upcasters } = definition
  if (!Number.isInteger(from) || from > version) {
    throw new UnknownVersionError(
      `${subject} version ${String(from)} is unknown here: this code knows versions ${oldestVersion} to ${version}; deploy the code that defines it, then redrive`,
    )
  }
  if (from < oldestVersion) {
    throw new UnknownVersionError(
      `${subject} version ${from} is older than the oldest version this code lifts (${oldestVersion})`,
    )
  }
  let lifted = data
  for (let v = from; v < version; v++) {
    try {
      lifted = upcasters[v]!(lifted)
    } catch (error) {
      throw new UnknownVersionError(
        `${subject}: the upcaster from version ${v} to ${v + 1} failed: ${(error as Error).message}`,
        { cause: error },
      )
    }
  }
  return lifted
}
