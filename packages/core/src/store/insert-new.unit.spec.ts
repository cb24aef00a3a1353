import { MongoBulkWriteError, MongoServerError, type BulkWriteResult } from 'mongodb'
import { describe, expect, it } from 'vitest'
import { MongoCodes } from '../server-codes.ts'
import { isDuplicateKey } from './insert-new.ts'

const serverError = (code: number) => new MongoServerError({ message: `code ${code}`, code })

/** What insertMany throws when the documents at these indexes were refused with these codes. */
function bulkError(refused: { index: number; code: number }[]) {
  const writeErrors = refused.map(({ index, code }) => ({ index, code, errmsg: `code ${code}` }))
  return new MongoBulkWriteError(
    {
      message: writeErrors[0]?.errmsg ?? 'write failed',
      code: writeErrors[0]?.code ?? 1,
      writeErrors: writeErrors as never,
    },
    {} as BulkWriteResult,
  )
}

describe('isDuplicateKey', () => {
  it('is true for a write refused because the key exists (11000), on MongoDB and FerretDB alike', () => {
    expect(MongoCodes.DuplicateKey).toBe(11000)
    expect(isDuplicateKey(serverError(MongoCodes.DuplicateKey))).toBe(true)
  })

  it('is false for any other server error, a driver error, or no error', () => {
    expect(isDuplicateKey(serverError(MongoCodes.NotImplemented))).toBe(false)
    expect(isDuplicateKey(serverError(112))).toBe(false) // WriteConflict
    expect(isDuplicateKey(new Error('E11000 duplicate key error'))).toBe(false)
    expect(isDuplicateKey({ code: 11000 })).toBe(false)
    expect(isDuplicateKey(undefined)).toBe(false)
  })

  it('is true for a bulk write only when every refused document was refused as a duplicate', () => {
    const duplicates = bulkError([
      { index: 0, code: MongoCodes.DuplicateKey },
      { index: 2, code: MongoCodes.DuplicateKey },
    ])
    expect(isDuplicateKey(duplicates)).toBe(true)
    // The first refusal alone (the bulk error's own code) must not decide.
    const mixed = bulkError([
      { index: 0, code: MongoCodes.DuplicateKey },
      { index: 1, code: 2 }, // BadValue
    ])
    expect(mixed.code).toBe(MongoCodes.DuplicateKey)
    expect(isDuplicateKey(mixed)).toBe(false)
    expect(isDuplicateKey(bulkError([]))).toBe(false)
  })
})
