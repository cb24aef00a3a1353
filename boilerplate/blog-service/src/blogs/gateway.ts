import type { GatewayPiece } from '@event-driven/service-kit'

export const blogsGateway: GatewayPiece = {
  typeDefs: /* GraphQL */ `
    type Blog {
      id: ID!
      title: String!
      content: String!
      commentCount: Int!
      "The blogs service's copy of the author; null until User.registered reached it."
      author: User
    }
    type BlogPayload {
      operationId: ID!
      blog: Blog!
    }
    type Query {
      blog(id: ID!): Blog
      blogs: [Blog!]!
    }
    type Mutation {
      blogCreate(title: String!, content: String!, idempotencyKey: String): BlogPayload!
      blogUpdate(id: ID!, title: String, content: String, idempotencyKey: String): BlogPayload!
    }
  `,
  resolvers: (call) => ({
    Query: {
      blog: (_, { id }: { id: string }, ctx) => call('get', { id }, ctx),
      blogs: (_, __, ctx) => call('list', {}, ctx),
    },
    Mutation: {
      blogCreate: (_, args: unknown, ctx) => call('create', args, ctx),
      blogUpdate: (_, args: unknown, ctx) => call('update', args, ctx),
    },
  }),
}
