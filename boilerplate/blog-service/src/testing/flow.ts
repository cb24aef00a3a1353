import { eventually } from '@event-driven/testing'
import { expect } from 'vitest'
import { gql } from './blog-process.ts'

export interface ChainEvent {
  id: string
  subject: string
  parentId: string
  publishedBy: string | null
  handledBy: string[]
  failures: {
    consumerGroup: string
    failures: number
    lastError: string
    inDeadLetterQueue: boolean
  }[]
}

export const OPERATION = /* GraphQL */ `
  query ($id: ID!) {
    operation(id: $id) {
      id
      name
      status
      events {
        id
        subject
        parentId
        publishedBy
        handledBy
        failures {
          consumerGroup
          failures
          lastError
          inDeadLetterQueue
        }
      }
    }
  }
`

/** Registers and logs in a user; returns the token and ids. */
export async function registerAndLogin(url: string, username: string) {
  const registered = await gql<{ userRegister: { operationId: string; user: { id: string } } }>(
    url,
    `mutation ($input: UserRegisterInput!) { userRegister(input: $input) { operationId user { id } } }`,
    { input: { username, password: 'correct-horse', firstName: 'Ada', lastName: 'Lovelace' } },
  )
  expect(registered.errors).toBeUndefined()
  const login = await gql<{ userLogin: { token: string } }>(
    url,
    `mutation ($u: String!, $p: String!) { userLogin(username: $u, password: $p) { token } }`,
    { u: username, p: 'correct-horse' },
  )
  expect(login.errors).toBeUndefined()
  return { token: login.data!.userLogin.token, userId: registered.data!.userRegister.user.id }
}

export async function createBlog(url: string, token: string) {
  const created = await gql<{ blogCreate: { blog: { id: string } } }>(
    url,
    `mutation { blogCreate(title: "Notes", content: "On the analytical engine") { operationId blog { id } } }`,
    {},
    token,
  )
  expect(created.errors).toBeUndefined()
  return created.data!.blogCreate.blog.id
}

export async function updateNames(url: string, token: string, firstName: string, lastName: string) {
  const updated = await gql<{ userUpdateNames: { operationId: string } }>(
    url,
    `mutation ($f: String!, $l: String!) { userUpdateNames(firstName: $f, lastName: $l) { operationId } }`,
    { f: firstName, l: lastName },
    token,
  )
  expect(updated.errors).toBeUndefined()
  return updated.data!.userUpdateNames.operationId
}

/** Polls operation(id) until `check` passes; returns its events. */
export async function chainOf(
  url: string,
  operationId: string,
  check: (events: ChainEvent[]) => void,
  timeoutMs = 20_000,
) {
  return eventually(
    async () => {
      const result = await gql<{ operation: { events: ChainEvent[] } | null }>(url, OPERATION, {
        id: operationId,
      })
      expect(result.errors).toBeUndefined()
      const events = result.data!.operation!.events
      check(events)
      return events
    },
    { timeoutMs, intervalMs: 100 },
  )
}

/**
 * The whole worked example over HTTP: register, log in, create a blog and a comment, update the
 * names; the copies in blogs and comments follow, and operation(id) shows the chain.
 */
export async function runBlogFlow(url: string, username: string) {
  const { token } = await registerAndLogin(url, username)
  const blogId = await createBlog(url, token)
  const renamed = await gql<{ blogUpdate: { operationId: string; blog: { title: string } } }>(
    url,
    `mutation ($id: ID!) { blogUpdate(id: $id, title: "Notes, revised") { operationId blog { title } } }`,
    { id: blogId },
    token,
  )
  expect(renamed.data?.blogUpdate.blog.title).toBe('Notes, revised')
  const comment = await gql(
    url,
    `mutation ($b: ID!) { commentCreate(blogId: $b, content: "Well put") { operationId } }`,
    { b: blogId },
    token,
  )
  expect(comment.errors).toBeUndefined()
  const operationId = await updateNames(url, token, 'Augusta', 'King')

  await eventually(
    async () => {
      const read = await gql<{
        blog: { commentCount: number; author: { firstName: string; lastName: string } | null }
        comments: { author: { firstName: string } | null }[]
      }>(
        url,
        `query ($b: ID!) { blog(id: $b) { commentCount author { firstName lastName } } comments(blogId: $b) { author { firstName } } }`,
        {
          b: blogId,
        },
      )
      expect(read.data?.blog).toEqual({
        commentCount: 1,
        author: { firstName: 'Augusta', lastName: 'King' },
      })
      expect(read.data?.comments).toEqual([{ author: { firstName: 'Augusta' } }])
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  )

  const events = await chainOf(url, operationId, (chain) => {
    expect(chain.map((e) => e.subject).sort()).toEqual([
      'Blog.authorNameChanged', // in the author's one blog's stream
      'Blog.authorUpdated',
      'Comment.authorUpdated',
      'User.nameUpdated',
    ])
    expect(chain.find((e) => e.subject === 'User.nameUpdated')?.handledBy).toEqual([
      'blogs.updateAuthorName',
      'comments.updateAuthorName',
    ])
    // The blogs read model projects the blog's new event.
    expect(chain.find((e) => e.subject === 'Blog.authorNameChanged')?.handledBy).toEqual([
      'blogs.projectBlogAuthorNameChanged',
    ])
  })
  const root = events.find((e) => e.subject === 'User.nameUpdated')!
  expect(root.parentId).toBe(operationId)
  expect(root.publishedBy).toBeNull()
  expect(events.find((e) => e.subject === 'Blog.authorUpdated')).toMatchObject({
    parentId: root.id,
    publishedBy: 'blogs.updateAuthorName',
  })
  expect(events.find((e) => e.subject === 'Blog.authorNameChanged')).toMatchObject({
    parentId: root.id,
    publishedBy: 'blogs.updateAuthorName',
  })
  expect(events.find((e) => e.subject === 'Comment.authorUpdated')).toMatchObject({
    parentId: root.id,
    publishedBy: 'comments.updateAuthorName',
  })
  expect(events.every((e) => e.failures.length === 0)).toBe(true)
}
