import { isDuplicateKey, type EventData } from '@event-driven/core'
import type { Db } from 'mongodb'
import type { UserNameUpdated, UserRegistered } from './events.ts'
import type { User } from './user.ts'

/** A user as a service first heard of it (User.registered). */
interface AuthorRecord {
  _id: string // userId
  username: string
}

/** One version of a user's name. Inserted, never updated: the highest version is current. */
interface AuthorName {
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

/**
 * A service's own copy of the users it shows, kept fresh by User events. Name versions are
 * separate inserts rather than a conditional update of one document, so concurrent handlers (two
 * instances, updates in any order) converge on the newest name even where the server's updates
 * are not atomic (FerretDB v1 loses concurrent updates of one document; measured).
 */
export function authorCopies(db: Db) {
  const authors = db.collection<AuthorRecord>('authors')
  const names = db.collection<AuthorName>('authorNames')
  const ready = names.createIndex({ userId: 1, nameVersion: -1 })
  return {
    async created(data: EventData<typeof UserRegistered>) {
      await insertOnce(() => authors.insertOne({ _id: data.userId, username: data.username }))
      await this.renamed({ ...data, nameVersion: 0 })
    },
    async renamed(data: EventData<typeof UserNameUpdated>) {
      await ready
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
    },
    /** The copy of a user: null until User.registered reached this service. */
    async get(userId: string): Promise<User | null> {
      const [author, latest] = await Promise.all([
        authors.findOne({ _id: userId }),
        names.find({ userId }).sort({ nameVersion: -1 }).limit(1).next(),
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
