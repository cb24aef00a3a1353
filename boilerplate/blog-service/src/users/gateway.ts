import type { GatewayPiece } from '@event-driven/service-kit'

export const usersGateway: GatewayPiece = {
  typeDefs: /* GraphQL */ `
    type User {
      id: ID!
      username: String!
      firstName: String!
      lastName: String!
    }
    type UserPayload {
      operationId: ID!
      user: User!
    }
    type LoginPayload {
      operationId: ID!
      token: String!
      user: User!
    }
    input UserRegisterInput {
      username: String!
      password: String!
      firstName: String!
      lastName: String!
    }
    type Query {
      me: User
      user(id: ID!): User
      users: [User!]!
    }
    type Mutation {
      userRegister(input: UserRegisterInput!, idempotencyKey: String): UserPayload!
      userLogin(username: String!, password: String!, idempotencyKey: String): LoginPayload!
      userUpdateNames(firstName: String!, lastName: String!, idempotencyKey: String): UserPayload!
    }
  `,
  resolvers: (call) => ({
    Query: {
      me: (_, __, ctx) => call('me', {}, ctx),
      user: (_, { id }: { id: string }, ctx) => call('get', { id }, ctx),
      users: (_, __, ctx) => call('list', {}, ctx),
    },
    Mutation: {
      userRegister: (_, { input }: { input: unknown }, ctx) => call('register', input, ctx),
      userLogin: (_, args: unknown, ctx) => call('login', args, ctx),
      userUpdateNames: (_, args: unknown, ctx) => call('updateNames', args, ctx),
    },
  }),
}
