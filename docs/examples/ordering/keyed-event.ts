import { defineEvent, type Service } from '@event-driven/core'
import { z } from 'zod'

// What the block in the docs assumes: a service, and what its handlers call.
declare const service: Service
declare function renameAuthor(userId: string, name: string): Promise<void>
declare function countRename(): Promise<void>

// #region
const UserNameUpdated = defineEvent({
  subject: 'User.nameUpdated',
  version: 2,
  schema: z.object({ userId: z.string(), firstName: z.string(), lastName: z.string() }),
  key: (data) => data.userId,
})

// Ordered: the updates of one user, one at a time, in stream order.
service.on(UserNameUpdated, { handler: 'renameAuthor' }, async (event) => {
  await renameAuthor(event.data.userId, `${event.data.firstName} ${event.data.lastName}`)
})

// The same keyed event, handled in no particular order (like an unkeyed one).
service.on(UserNameUpdated, { handler: 'countRenames', ordered: false }, async () => {
  await countRename()
})
// #endregion
