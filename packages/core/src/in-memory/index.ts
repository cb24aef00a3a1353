// `@event-driven/core/testing`: the production delivery steps with in-memory adapters, for
// tests of handlers without servers (`testHandler` in `@event-driven/testing` is built on it).
export {
  inMemoryConsumerGroup,
  type InMemoryConsumerGroup,
  type InMemoryConsumerGroupOptions,
  type InMemoryDelivery,
  type InMemoryEvent,
} from './consumer-group.ts'
export type { Settlement } from '../consume/outcome.ts'
export type { DeadLetter } from '../consume/dlq.ts'
