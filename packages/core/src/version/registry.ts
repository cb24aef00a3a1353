import { ConfigurationError } from '../errors.ts'
import type { EventDefinition } from '../event-definition.ts'
import { checkUpcasterChain } from './upcast.ts'

/**
 * The event definitions one service publishes and handles: one version per subject. Two
 * definitions of a subject with different versions in one service (a stale copy of an events
 * module) would publish one shape and expect another, so the second is refused.
 */
export interface DefinitionRegistry {
  /** Returns the definition, or throws ConfigurationError when it conflicts with a known one. */
  check<D extends EventDefinition<string, unknown>>(definition: D): D
  all(): EventDefinition<string, unknown>[]
}

export function definitionRegistry(service: string): DefinitionRegistry {
  const bySubject = new Map<string, EventDefinition<string, unknown>>()
  return {
    check(definition) {
      const known = bySubject.get(definition.subject)
      if (known === definition) return definition
      // A definition built by hand, not by defineEvent, gets the same checks here.
      checkUpcasterChain(
        definition.subject,
        definition.version,
        definition.oldestVersion ?? 1,
        definition.upcasters ?? {},
      )
      if (known && known.version !== definition.version) {
        throw new ConfigurationError(
          `${service}: ${definition.subject} is defined here as version ${known.version} and as version ${definition.version}; import one definition per subject`,
        )
      }
      if (!known) bySubject.set(definition.subject, definition)
      return definition
    },
    all: () => [...bySubject.values()],
  }
}
