import { defineEvent } from '@event-driven/core'
import { z } from 'zod'

// #region
export const UserNameUpdated = defineEvent({
  subject: 'User.nameUpdated',
  version: 2,
  schema: z.object({ userId: z.string(), firstName: z.string(), lastName: z.string() }),
  upcasters: {
    // upcasters[n] lifts version n to n + 1
    1: (v1: { userId: string; name: string }) => {
      const [firstName = '', ...rest] = v1.name.split(' ')
      return { userId: v1.userId, firstName, lastName: rest.join(' ') }
    },
  },
})
// #endregion
