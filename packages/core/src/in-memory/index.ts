// `@event-driven/core/testing`: the production delivery steps with in-memory adapters, for
// tests of handlers without servers (`testHandler` in `@event-driven/testing` is built on it).
export {
  inMemoryConsumerGroup,
  type InMemoryConsumerGroup,
  type InMemoryConsumerGroupOptions,
  type InMemoryDelivery,
  type InMemoryEvent,
} from './consumer-group.ts'
export type { Ack, Parked, Recorded, Retry, Settlement, Unrecorded } from '../consume/outcome.ts'
export type { InMemoryDeadLetters, InMemoryFailureLog, InMemoryLedger } from './adapters.ts'
export type { FakeMessage, FakeSettlement } from './fake-message.ts'
// The ports the in-memory adapters stand in for.
export type { DeadLetterQueue } from '../consume/dead-letter.ts'
export type { FailedDelivery, FailedMessage, FailureLog } from '../consume/failures.ts'
export type { HandlerRunTimes, Ledger } from '../consume/ledger.ts'
export type { Redelivery } from '../publish/wire.ts'
export type { DeadLetter } from '../consume/dlq.ts'
