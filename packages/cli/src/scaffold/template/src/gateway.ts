import type { GatewayPiece } from '@event-driven/service-kit'

/** The order-history service's piece of the GraphQL gateway: one mutation per event it publishes. */
export const orderHistoryGateway: GatewayPiece = {
  typeDefs: /* GraphQL */ `
    # @each publishes
    type OrderArchivedPayload {
      operationId: ID!
      orderId: ID!
    }
    # @end
    type Mutation {
      # @each publishes
      recordOrderArchived(note: String!, idempotencyKey: String): OrderArchivedPayload!
      # @end
    }
  `,
  resolvers: (call) => ({
    Mutation: {
      // @each publishes
      recordOrderArchived: (_, args: unknown, ctx) => call('recordOrderArchived', args, ctx),
      // @end
    },
  }),
}
