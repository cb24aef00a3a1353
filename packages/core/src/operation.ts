import type { EventDefinition } from './event-definition.ts'
import type { EventStore } from './store/event-store.ts'

/**
 * One command that starts a chain: a GraphQL mutation, an HTTP request, a cron tick, a webhook.
 * Its events carry its id as `operationId`; the first ones have it as `parentId` too.
 */
export interface Operation {
  id: string
  name: string
  /** Records and publishes an event of this operation; resolves with the event's id. */
  publish<Data>(definition: EventDefinition<string, Data>, data: Data): Promise<string>
  /** Marks the command done (its events may still be handled). */
  complete(): Promise<void>
  /** Marks the command failed, with a reason a person can act on. */
  fail(reason: string | Error): Promise<void>
}

export interface StartOperationInput {
  /** What the command is, e.g. `userUpdateNames`. */
  name: string
  /** Its input, as received (leave secrets out). */
  input?: unknown
  /** Who asked: a user id, `cron`, a webhook's source. */
  actor?: unknown
}

/**
 * Records the operation's end. An operation archived before it ended is archived again with
 * its end, so its archive mark (and the expiry that came with it) is cleared; with retention
 * but no archiving, `expireAfterMs` counts from the end.
 */
export async function endOperation(
  store: EventStore,
  id: string,
  status: 'completed' | 'failed',
  error?: string | Error,
  expireAfterMs?: number,
): Promise<void> {
  const endedAt = new Date()
  await store.operations.updateOne(
    { _id: id },
    {
      $set: {
        status,
        endedAt,
        ...(error ? { error: error instanceof Error ? error.message : error } : {}),
        ...(expireAfterMs === undefined
          ? {}
          : { expireAt: new Date(endedAt.getTime() + expireAfterMs) }),
      },
      $unset: expireAfterMs === undefined ? { archivedAt: '', expireAt: '' } : { archivedAt: '' },
    },
  )
}
