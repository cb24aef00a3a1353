import { describe, expect, it } from 'vitest'
import { RevocationUnavailable } from './admin/revocations.ts'
import { DlqFilterError } from './dlq/manage.ts'
import {
  ConcurrencyError,
  StreamNameError,
  ConfigurationError,
  ErrorCodes,
  EventDrivenError,
  EventValidationError,
  HandlerTimeoutError,
  OperationIdError,
  PublishError,
  RecordError,
  ServiceStoppedError,
  type ErrorCode,
} from './errors.ts'
import { FormatError } from './version/formats.ts'
import { UnknownVersionError } from './version/upcast.ts'

/** One of each error the core throws, as it is thrown. */
const thrown: [EventDrivenError, string, ErrorCode][] = [
  [
    new EventValidationError('User.nameUpdated', [{ path: 'firstName', message: 'Required' }]),
    'EventValidationError',
    'event-data-invalid',
  ],
  [new ConfigurationError('handler name is empty'), 'ConfigurationError', 'configuration-invalid'],
  [new RecordError('MongoDB did not record event e1'), 'RecordError', 'not-recorded'],
  [new PublishError('not confirmed', 'e1'), 'PublishError', 'publish-unconfirmed'],
  [new HandlerTimeoutError('ran past 30 s'), 'HandlerTimeoutError', 'handler-timeout'],
  [new ServiceStoppedError('service billing is stopped'), 'ServiceStoppedError', 'service-stopped'],
  [
    new OperationIdError('operation id "" is not valid'),
    'OperationIdError',
    'operation-id-invalid',
  ],
  [
    new OperationIdError('operation op-1 is recorded already', ErrorCodes.OperationIdTaken),
    'OperationIdError',
    'operation-id-taken',
  ],
  [new ConcurrencyError('user/ada', 3), 'ConcurrencyError', 'concurrency-conflict'],
  [
    new StreamNameError('stream name "x" must be "<type>:<id>"'),
    'StreamNameError',
    'stream-name-invalid',
  ],
  [new UnknownVersionError('version 9 is newer'), 'UnknownVersionError', 'unknown-version'],
  [
    new DlqFilterError('the filter selects every entry'),
    'DlqFilterError',
    'dlq-filter-selects-all',
  ],
  [new FormatError(3, 'event e1 is in format 3'), 'FormatError', 'format-unsupported'],
  [
    new RevocationUnavailable('the sign-outs cannot be read'),
    'RevocationUnavailable',
    'revocation-unavailable',
  ],
]

describe('error codes', () => {
  it.each(thrown)('%s keeps its name and carries its code', (error, name, code) => {
    expect(error).toBeInstanceOf(EventDrivenError)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe(name)
    expect(error.code).toBe(code)
  })

  it('every code is carried by an error, and no two codes are the same', () => {
    const codes = Object.values(ErrorCodes)
    expect(new Set(codes).size).toBe(codes.length)
    expect(new Set(thrown.map(([, , code]) => code))).toEqual(new Set(codes))
  })

  it('codes are kebab-case, like the DLQ refusals (not-found, conflict)', () => {
    for (const code of Object.values(ErrorCodes)) expect(code).toMatch(/^[a-z]+(-[a-z]+)*$/)
  })

  it('a caller branches on the code after one instanceof', () => {
    const outcome = (error: unknown) => {
      if (!(error instanceof EventDrivenError)) return 'unexpected'
      switch (error.code) {
        case ErrorCodes.OperationIdTaken:
          return 'look the operation up'
        case ErrorCodes.ConcurrencyConflict:
          return 'read again, decide again'
        default:
          return error.code
      }
    }
    expect(outcome(new ConcurrencyError('user/ada', 1))).toBe('read again, decide again')
    expect(outcome(new OperationIdError('recorded', ErrorCodes.OperationIdTaken))).toBe(
      'look the operation up',
    )
    expect(outcome(new RecordError('no'))).toBe('not-recorded')
    expect(outcome(new Error('driver'))).toBe('unexpected')
  })

  it('messages and fields stay as they were', () => {
    const invalid = new EventValidationError('User.nameUpdated', [
      { path: '', message: 'Expected object' },
      { path: 'firstName', message: 'Required' },
    ])
    expect(invalid.message).toBe(
      'User.nameUpdated data is invalid: (root): Expected object; firstName: Required',
    )
    expect(invalid.issues).toHaveLength(2)
    const conflict = new ConcurrencyError('user/ada', 3)
    expect(conflict.message).toBe(
      'user/ada changed after position 3: another change took position 4 first; nothing was applied or published',
    )
    expect(new ConcurrencyError('blog:b1', 3, 5)).toMatchObject({
      expectedPosition: 3,
      actualPosition: 5,
      message:
        'blog:b1 changed after position 3: another change took position 4 first (the stream is at 5); nothing was applied or published',
    })
    expect(new ConcurrencyError('blog:b1', 'no_stream', 2).message).toBe(
      'blog:b1 was expected to not exist, and is at position 2; nothing was appended',
    )
    const cause = new Error('timeout')
    const unconfirmed = new PublishError('not confirmed', 'e1', { cause })
    expect(unconfirmed).toMatchObject({ eventId: 'e1', cause, message: 'not confirmed' })
  })
})
