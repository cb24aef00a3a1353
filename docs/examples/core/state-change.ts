import { defineEvent, type Service } from '@event-driven/core'
import type { CallInfo } from '@event-driven/service-kit'
import type { Db } from 'mongodb'
import { z } from 'zod'

// What the block in the docs assumes: the users service, its database, a request's call and input.
declare const users: Service
declare const db: Db
declare const call: CallInfo
declare const userId: string, firstName: string, lastName: string
interface UserDocument {
  _id: string
  firstName: string
  lastName: string
  nameVersion: number
}
const UserNameUpdated = defineEvent({
  subject: 'User.nameUpdated',
  version: 1,
  schema: z.object({
    userId: z.string(),
    firstName: z.string(),
    lastName: z.string(),
    nameVersion: z.number().int(),
  }),
})

// #region
const userDocs = db.collection<UserDocument>('users')
const userState = users.entityState<{ firstName: string; lastName: string }>({
  type: 'user',
  // Stores the state at this position unless a later one is stored; runs again on reconciliation.
  async apply({ key, position, state }) {
    await userDocs.updateOne(
      { _id: key, nameVersion: { $lt: position } },
      { $set: { ...state, nameVersion: position } },
    )
  },
})

const op = await users.startOperation({ id: call.operationId, name: 'userUpdateNames' })
const user = await userDocs.findOne({ _id: userId })
if (!user) throw new Error(`no user ${userId}`)
const { position } = await op.change(userState, {
  key: userId,
  expectedPosition: user.nameVersion, // the state the change was decided on
  onConflict: 'next', // last writer wins; the default 'fail' rejects with ConcurrencyError
  state: () => ({ firstName, lastName }),
  event: UserNameUpdated,
  data: (nameVersion) => ({ userId, firstName, lastName, nameVersion }),
})
await op.complete()
// #endregion
