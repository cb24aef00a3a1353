import type { DeadLetterQueue } from '../consume/dead-letter.ts'
import type { DeadLetter } from '../consume/dlq.ts'
import {
  attemptError,
  lostAttempts,
  type FailedDelivery,
  type FailedMessage,
  type FailureLog,
} from '../consume/failures.ts'
import type { Ledger } from '../consume/ledger.ts'
import type { Outbox } from '../publish/outbox.ts'
import { createPublisher, type Publisher } from '../publish/publisher.ts'
import type { AttemptError, EventRecord } from '../store/event-store.ts'
import { definitionRegistry } from '../version/registry.ts'

/**
 * In-memory stand-ins for what a consumer group uses outside the process (MongoDB, NATS), so the
 * production delivery steps run without servers. Each keeps what it was given, to look at.
 */

export type InMemoryLedger = Pick<Ledger, 'isProcessed' | 'markProcessed'> & {
  readonly keys: Set<string>
}

export function inMemoryLedger(): InMemoryLedger {
  const keys = new Set<string>()
  return {
    keys,
    isProcessed: async (key) => keys.has(key),
    markProcessed: async (key) => void keys.add(key),
  }
}

export type InMemoryFailureLog = FailureLog & {
  /** Every attempt recorded, by failure-record key, in the order they were written. */
  readonly records: Map<string, AttemptError[]>
}

export function inMemoryFailureLog(): InMemoryFailureLog {
  const records = new Map<string, AttemptError[]>()
  const append = (failed: FailedMessage, attempts: AttemptError[]) => {
    const all = [...(records.get(failed.key) ?? []), ...attempts]
    records.set(failed.key, all)
    return all.filter((a) => a.streamSequence === failed.streamSequence)
  }
  const ofMessage = (failed: FailedMessage) =>
    (records.get(failed.key) ?? []).filter((a) => a.streamSequence === failed.streamSequence)
  return {
    records,
    record: async (failed: FailedDelivery) =>
      append(failed, [attemptError(failed.attempt, failed.error, failed.streamSequence)]),
    recordLost: async (failed, attempt) => {
      const lost = lostAttempts(ofMessage(failed), attempt, failed.streamSequence)
      return lost.length === 0 ? ofMessage(failed) : append(failed, lost)
    },
  }
}

export type InMemoryDeadLetters = DeadLetterQueue & {
  /** DLQ entries by entry id: written once, as the insert in MongoDB. */
  readonly entries: Map<string, DeadLetter>
}

export function inMemoryDeadLetters(): InMemoryDeadLetters {
  const entries = new Map<string, DeadLetter>()
  return {
    entries,
    record: async (letter) => {
      if (!entries.has(letter.entryId)) entries.set(letter.entryId, letter)
    },
    park: async () => {
      throw new Error('in memory, every DLQ entry is recorded: nothing is parked')
    },
  }
}

export type InMemoryPublisher = Publisher & {
  /** Every event published through it, in order, as it would be recorded. */
  readonly published: EventRecord[]
}

/** The production publisher (validation, child ids) over an outbox that keeps events in memory. */
export function inMemoryPublisher(service: string): InMemoryPublisher {
  const published: EventRecord[] = []
  const notHere = async (): Promise<never> => {
    throw new Error('an in-memory outbox only records what handlers publish')
  }
  const outbox: Outbox = {
    publish: async (record) => void published.push(record),
    hold: notHere,
    publishRecorded: notHere,
    drain: async () => undefined,
  }
  const publisher = createPublisher({
    service,
    outbox,
    definitions: definitionRegistry(service),
    isStopped: () => false,
  })
  return { ...publisher, published }
}
