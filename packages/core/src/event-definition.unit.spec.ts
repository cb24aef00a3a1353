import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ConfigurationError, EventValidationError } from './errors.ts'
import { defineEvent, validateEventData } from './event-definition.ts'

const UserNameUpdated = defineEvent({
  subject: 'User.nameUpdated',
  version: 1,
  schema: z.object({ userId: z.string(), firstName: z.string().min(1), lastName: z.string() }),
})

describe('defineEvent', () => {
  it('refuses a subject that is not <Entity>.<pastTenseVerb>, and a bad version or schema', () => {
    for (const subject of [
      'user.nameUpdated',
      'User',
      'User.Name',
      'User.name.updated',
      'User.name-updated',
    ]) {
      expect(() => defineEvent({ subject, version: 1, schema: z.object({}) })).toThrow(
        ConfigurationError,
      )
    }
    expect(() =>
      defineEvent({ subject: 'User.created', version: 0, schema: z.object({}) }),
    ).toThrow(/positive integer/)
    expect(() =>
      defineEvent({ subject: 'User.created', version: 1.5, schema: z.object({}) }),
    ).toThrow(/positive integer/)
    expect(() => defineEvent({ subject: 'User.created', version: 1, schema: {} as never })).toThrow(
      /Standard Schema/,
    )
  })

  it('validates data, returning the parsed value or every issue with its path', async () => {
    expect(
      await validateEventData(UserNameUpdated, { userId: 'u1', firstName: 'Ada', lastName: 'L' }),
    ).toEqual({
      userId: 'u1',
      firstName: 'Ada',
      lastName: 'L',
    })
    const error = await validateEventData(UserNameUpdated, { userId: 1, firstName: '' }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(EventValidationError)
    expect((error as EventValidationError).issues.map((i) => i.path)).toEqual([
      'userId',
      'firstName',
      'lastName',
    ])
    expect((error as Error).message).toMatch(
      /^User\.nameUpdated data is invalid: userId: .+; firstName: .+; lastName: .+$/,
    )
  })
})
