import { createHash } from 'node:crypto'
import { currentFormat, isDuplicateKey } from '@event-driven/core'
import type { Db } from 'mongodb'

/**
 * Idempotency keys of mutations: a caller that sends a command again with the same key (after a
 * timeout, a lost connection) gets the first call's answer instead of a second effect. A key is
 * claimed by one insert (its `_id` hashes the actor, the mutation and the key), so of two calls
 * with one key exactly one runs; the answer is written once, by that call.
 */
export interface IdempotencyRecord {
  _id: string
  /** The format it was written in (`currentFormat`); absent before formats: 1. */
  format?: number
  mutation: string
  /** Hash of the input (canonical JSON, key excluded): the same key with other input is refused. */
  inputHash: string
  operationId: string
  createdAt: Date
  /** The first call's result, once it succeeded. */
  answer?: unknown
  /** The first call's refusal (a code the caller can act on), once it was refused. */
  refusal?: { message: string; extensions: Record<string, unknown> }
}

/** What a key's first call left: nothing yet (the caller runs the command), or a record. */
export type IdempotencyClaim =
  { first: true; id: string } | { first: false; record: IdempotencyRecord }

function hash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex')
}

/** JSON with object keys sorted, so the same input hashes the same whatever its key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`
  return JSON.stringify(value) ?? 'null'
}

export function idempotencyKeys(db: Db) {
  const keys = db.collection<IdempotencyRecord>('idempotency_keys')
  return {
    async claim(call: {
      key: string
      actor: string | null
      mutation: string
      input: unknown
      operationId: string
    }): Promise<IdempotencyClaim> {
      const id = hash([call.actor, call.mutation, call.key])
      try {
        await keys.insertOne({
          _id: id,
          format: currentFormat,
          mutation: call.mutation,
          inputHash: hash(call.input),
          operationId: call.operationId,
          createdAt: new Date(),
        })
        return { first: true, id }
      } catch (error) {
        if (!isDuplicateKey(error)) throw error
      }
      const record = await keys.findOne({ _id: id })
      if (!record) throw new Error(`idempotency key ${id} was taken but cannot be read`)
      return { first: false, record }
    },
    /** True when `input` is what the key's first call carried. */
    sameInput: (record: IdempotencyRecord, input: unknown) => record.inputHash === hash(input),
    answered: (id: string, answer: unknown) =>
      keys.updateOne({ _id: id }, { $set: { answer } }).then(() => undefined),
    refused: (id: string, refusal: NonNullable<IdempotencyRecord['refusal']>) =>
      keys.updateOne({ _id: id }, { $set: { refusal } }).then(() => undefined),
    /** Frees a key whose call did nothing (no service answered), so it can be sent again. */
    release: (id: string) => keys.deleteOne({ _id: id }).then(() => undefined),
  }
}

export type IdempotencyKeys = ReturnType<typeof idempotencyKeys>
