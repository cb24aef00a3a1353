import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ConfigurationError } from '../errors.ts'
import { defineEvent, readEventData } from '../event-definition.ts'
import { EventValidationError } from '../errors.ts'
import { UnknownVersionError } from './upcast.ts'

const schema = z.object({ userId: z.string(), firstName: z.string(), lastName: z.string() })

const UserNameUpdatedV3 = defineEvent({
  subject: 'User.nameUpdated',
  version: 3,
  schema,
  upcasters: {
    // v1: { userId, name: "Ada Lovelace" }
    1: (v1: { userId: string; name: string }) => {
      const [first = '', ...rest] = v1.name.split(' ')
      return { userId: v1.userId, first, last: rest.join(' ') }
    },
    // v2: { userId, first, last }
    2: (v2: { userId: string; first: string; last: string }) => ({
      userId: v2.userId,
      firstName: v2.first,
      lastName: v2.last,
    }),
  },
})

describe('event versions and upcasters', () => {
  it('lifts every older version to the current shape, and leaves the current one as it is', async () => {
    const ada = { userId: 'u1', firstName: 'Ada', lastName: 'Lovelace' }
    expect(
      await readEventData(UserNameUpdatedV3, { userId: 'u1', name: 'Ada Lovelace' }, 1),
    ).toEqual(ada)
    expect(
      await readEventData(UserNameUpdatedV3, { userId: 'u1', first: 'Ada', last: 'Lovelace' }, 2),
    ).toEqual(ada)
    expect(await readEventData(UserNameUpdatedV3, ada, 3)).toEqual(ada)
  })

  it('refuses a gap in the upcaster chain, and an upcaster keyed outside it, at definition time', () => {
    expect(() =>
      defineEvent({
        subject: 'User.nameUpdated',
        version: 3,
        schema,
        upcasters: { 1: (d: object) => d },
      }),
    ).toThrow(
      'User.nameUpdated version 3: no upcaster from version 2 to 3, so stored version 2 events could not reach version 3; add upcasters[2] or raise oldestVersion',
    )
    expect(() => defineEvent({ subject: 'User.nameUpdated', version: 2, schema })).toThrow(
      ConfigurationError,
    )
    expect(() =>
      defineEvent({
        subject: 'User.nameUpdated',
        version: 2,
        schema,
        upcasters: { 1: (d: object) => d, 2: (d: object) => d },
      }),
    ).toThrow(/keyed by the version it lifts, from 1 to 1; got "2"/)
    // A subject born at version 2 has nothing older to lift.
    expect(
      defineEvent({ subject: 'Blog.archived', version: 2, oldestVersion: 2, schema }).version,
    ).toBe(2)
  })

  it('says clearly when a stored version is newer or older than this code knows, or an upcaster fails', async () => {
    await expect(readEventData(UserNameUpdatedV3, {}, 4)).rejects.toThrow(
      new UnknownVersionError(
        'User.nameUpdated version 4 is unknown here: this code knows versions 1 to 3; deploy the code that defines it, then redrive',
      ),
    )
    const born2 = defineEvent({ subject: 'Blog.archived', version: 2, oldestVersion: 2, schema })
    await expect(readEventData(born2, {}, 1)).rejects.toThrow(
      /older than the oldest version this code lifts \(2\)/,
    )
    await expect(readEventData(UserNameUpdatedV3, { userId: 'u1' }, 1)).rejects.toThrow(
      /the upcaster from version 1 to 2 failed: .*split/,
    )
    // An upcaster that yields the wrong shape is caught by the current schema.
    await expect(readEventData(UserNameUpdatedV3, { userId: 'u1', first: 1 }, 2)).rejects.toThrow(
      EventValidationError,
    )
  })
})
