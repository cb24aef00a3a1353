import type { GatewayPiece } from '@event-driven/service-kit'

export const commentsGateway: GatewayPiece = {
  typeDefs: /* GraphQL */ `
    type Comment {
      id: ID!
      blogId: ID!
      content: String!
      "approved or rejected by the moderation webhook; null until a verdict arrives."
      moderation: String
      author: User
    }
    type CommentPayload {
      operationId: ID!
      comment: Comment!
    }
    type Query {
      comments(blogId: ID!): [Comment!]!
    }
    type Mutation {
      commentCreate(blogId: ID!, content: String!, idempotencyKey: String): CommentPayload!
    }
  `,
  resolvers: (call) => ({
    Query: {
      comments: (_, { blogId }: { blogId: string }, ctx) => call('list', { blogId }, ctx),
    },
    Mutation: {
      commentCreate: (_, args: unknown, ctx) => call('create', args, ctx),
    },
  }),
}
