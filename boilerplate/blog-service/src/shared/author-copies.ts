import {
  isDuplicateKey,
  type EventData,
  type HandlerContext,
  type Service,
} from '@event-driven/core'
import type { Db } from 'mongodb'
import { UserNameUpdated, UserRegistered } from './events.ts'
import type { User } from './user.ts'

/** A user as a service first heard of it (User.registered). */
interface AuthorRecord {
  _id: string // userId
  username: string
}

/** One version of a user's name. Inserted, never updated: the highest version is current. */
export interface AuthorName {
  _id: string // `${userId}:${nameVersion}`
  userId: string
  firstName: string
  lastName: string
  nameVersion: number
}

async function insertOnce(insert: () => Promise<unknown>): Promise<void> {
  try {
    await insert()
  } catch (error) {
    // Already there: a redelivery, or a retried handler. Same `_id`, same content.
    if (!isDuplicateKey(error)) throw error
  }
}

/** What a service does once a new name of a user is in its copy (blogs and comments announce it). */
export type AuthorRenamed = (
  user: EventData<typeof UserNameUpdated>,
  ctx: HandlerContext,
) => Promise<void>

/**
 * A service's own copy of the users it shows, kept fresh by User events: registers the handlers
 * `createAuthor` (User.registered) and `updateAuthorName` (User.nameUpdated, then `renamed`).
 * Name versions are separate inserts rather than a conditional update of one document, so
 * concurrent handlers (two instances, updates in any order) converge on the newest name even
 * where the server's updates are not atomic (FerretDB v1 loses concurrent updates of one
 * document; measured).
 */
export function authorCopies(runtime: { core: Service; db: Db }, renamed: AuthorRenamed) {
  const authors = runtime.db.collection<AuthorRecord>('authors')
  const names = runtime.db.collection<AuthorName>('authorNames')
  // Made by the first name kept, not at start: a failure then fails that handler (it retries),
  // never the process, and the next one tries again.
  let index: Promise<unknown> | undefined
  const indexReady = () =>
    (index ??= names.createIndex({ userId: 1, nameVersion: -1 }).catch((error: unknown) => {
      index = undefined
      throw error
    }))
  const keepName = async (data: EventData<typeof UserNameUpdated>) => {
    await indexReady()
    const { userId, firstName, lastName, nameVersion } = data
    await insertOnce(() =>
      names.insertOne({
        _id: `${userId}:${nameVersion}`,
        userId,
        firstName,
        lastName,
        nameVersion,
      }),
    )
  }

  runtime.core.on(UserRegistered, { handler: 'createAuthor' }, async (event) => {
    const { userId, username } = event.data
    await insertOnce(() => authors.insertOne({ _id: userId, username }))
    await keepName({ ...event.data, nameVersion: 0 })
  })
  runtime.core.on(UserNameUpdated, { handler: 'updateAuthorName' }, async (event, ctx) => {
    await keepName(event.data)
    await renamed(event.data, ctx)
  })

  /** The newest version of a user's name this service has. */
  const latestName = (userId: string): Promise<AuthorName | null> =>
    names.find({ userId }).sort({ nameVersion: -1 }).limit(1).next()

  return {
    latestName,
    /** The copy of a user: null until User.registered reached this service. */
    async get(userId: string): Promise<User | null> {
      const [author, latest] = await Promise.all([
        authors.findOne({ _id: userId }),
        latestName(userId),
      ])
      if (!author || !latest) return null
      return {
        id: userId,
        username: author.username,
        firstName: latest.firstName,
        lastName: latest.lastName,
      }
    },
  }
}
