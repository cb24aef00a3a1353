import { eventStore, operationChain } from '@event-driven/core/admin'
import type { Db } from 'mongodb'

/** `operation(id)` for the gateway: the chain from the event store, with data as JSON text. */
export async function operationChainForGraphQL(db: Db, operationId: string) {
  const chain = await operationChain(eventStore(db), operationId)
  return (
    chain && {
      ...chain,
      events: chain.events.map((event) => ({ ...event, data: JSON.stringify(event.data) })),
    }
  )
}

/** The gateway's own piece: `operation(id)`, the chain of any operation. */
export const operationTypeDefs = /* GraphQL */ `
  "One command and the chain of events it started."
  type Operation {
    id: ID!
    name: String!
    status: String!
    actor: String
    startedAt: String!
    events: [Event!]!
  }

  type Event {
    id: ID!
    subject: String!
    version: Int!
    "The event (or, for the first events, the operation) that caused this one."
    parentId: ID!
    "The consumer group that published it, when a handler did."
    publishedBy: String
    createdAt: String!
    publishedAt: String
    "JSON of the event's data."
    data: String!
    "Consumer groups that finished handling it."
    handledBy: [String!]!
    failures: [Failure!]!
    "Every run of a handler on it, in the order they ended: failed ones, then the one that finished."
    attempts: [Attempt!]!
  }

  type Attempt {
    consumerGroup: String!
    "JetStream's delivery count; null on entries written before timings were kept."
    attempt: Int
    "When the run started; null where it was not recorded."
    startedAt: String
    endedAt: String!
    "handled or failed"
    outcome: String!
    error: String
  }

  type Failure {
    consumerGroup: String!
    failures: Int!
    lastError: String!
    inDeadLetterQueue: Boolean!
    "Its latest DLQ entry's status: open, redriven, discarded or resolved; null when it has none."
    deadLetterStatus: String
  }

  type Query {
    operation(id: ID!): Operation
  }
`
