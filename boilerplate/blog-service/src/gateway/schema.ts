export const typeDefs = /* GraphQL */ `
  type User {
    id: ID!
    username: String!
    firstName: String!
    lastName: String!
  }

  type Blog {
    id: ID!
    title: String!
    content: String!
    commentCount: Int!
    "The blogs service's copy of the author; null until User.registered reached it."
    author: User
  }

  type Comment {
    id: ID!
    blogId: ID!
    content: String!
    author: User
  }

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
  }

  type Failure {
    consumerGroup: String!
    failures: Int!
    lastError: String!
    inDeadLetterQueue: Boolean!
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
  type BlogPayload {
    operationId: ID!
    blog: Blog!
  }
  type CommentPayload {
    operationId: ID!
    comment: Comment!
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
    blog(id: ID!): Blog
    blogs: [Blog!]!
    comments(blogId: ID!): [Comment!]!
    operation(id: ID!): Operation
  }

  type Mutation {
    userRegister(input: UserRegisterInput!): UserPayload!
    userLogin(username: String!, password: String!): LoginPayload!
    userUpdateNames(firstName: String!, lastName: String!): UserPayload!
    blogCreate(title: String!, content: String!): BlogPayload!
    blogUpdate(id: ID!, title: String, content: String): BlogPayload!
    commentCreate(blogId: ID!, content: String!): CommentPayload!
  }
`
