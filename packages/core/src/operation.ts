import type { Logger } from 'pino'
import type { EventDefinition } from './event-definition.ts'
import type { ChangeInput, ChangeResult, EntityState } from './state/entity-state.ts'
import { ErrorCodes, OperationIdError } from './errors.ts'
import { runEvery } from './periodic.ts'
import type { EventStore, OperationEndRecord, OperationRecord } from './store/event-store.ts'
import { insertNew } from './store/insert-new.ts'
import { groupCommit, groupWrites } from './group-commit.ts'
import { storableText } from './store/keys.ts'
import { newId } from './ids.ts'
import { operationSpan } from './observe/spans.ts'
import type { ServiceTracing } from './observe/tracing.ts'
import type { Publisher } from './publish/publisher.ts'
import { makeChange, type ChangeDependencies } from './state/change.ts'
import { inCurrentFormat } from './version/formats.ts'
import type { AppendLineage } from './event-sourcing/append.ts'
import type { StreamWriter } from './event-sourcing/streams.ts'

/**
 * One command that starts a chain: a GraphQL mutation, an HTTP request, a cron tick, a webhook.
 * Its events carry its id as `operationId`; the first ones have it as `parentId` too.
 */
export interface Operation extends StreamWriter {
  id: string
  name: string
  /** Records and publishes an event of this operation; resolves with the event's id. */
  publish<Data>(definition: EventDefinition<string, Data>, data: Data): Promise<string>
  /**
   * Changes an entity's state and publishes the event that announces it, so that neither can
   * exist without the other, whatever crashes (see `state/change.ts`). Rejects with
   * `ConcurrencyError` when another change took the position first (`onConflict: 'fail'`).
   */
  change<State, Data>(
    entity: EntityState<State>,
    input: ChangeInput<State, Data>,
  ): Promise<ChangeResult>
  /**
   * Marks the command done (its events may still be handled). Resolves false when the operation
   * had already ended (the sweeper ended it as abandoned past its deadline): the first end stays.
   */
  complete(): Promise<boolean>
  /** Marks the command failed, with a reason a person can act on. Resolves as `complete` does. */
  fail(reason: string | Error): Promise<boolean>
}

export interface StartOperationInput {
  /** What the command is, e.g. `userUpdateNames`. */
  name: string
  /** Its input, as received (leave secrets out). */
  input?: unknown
  /** Who asked: a user id, `cron`, a webhook's source. */
  actor?: unknown
  /**
   * Its id, when it was minted where the command entered (a gateway, an HTTP route, a timer), so
   * the caller knows it before anything is recorded: letters, digits and `-_.:`, at most 150.
   * Default: a new id. An id already recorded is refused.
   */
  id?: string
  /**
   * How long it may stay `started`: past this, the sweeper ends it as `failed` (abandoned).
   * Default: the service's `operations.deadlineMs`.
   */
  deadlineMs?: number
}

/** How operations end when their process does not end them. */
export interface OperationOptions {
  /** How long an operation may stay `started` before it is ended as abandoned. Default 5 min. */
  deadlineMs?: number
  /** How often every instance looks for operations past their deadline. Default 30 s. */
  sweepIntervalMs?: number
}

export const defaultOperationOptions: Required<OperationOptions> = {
  deadlineMs: 5 * 60_000,
  sweepIntervalMs: 30_000,
}

const operationIdPattern = /^[\w.:-]{1,150}$/

/** Refuses an operation id that cannot name one command (see `StartOperationInput.id`). */
export function checkOperationId(id: string): void {
  if (!operationIdPattern.test(id))
    throw new OperationIdError(
      `operation id ${JSON.stringify(id.slice(0, 60))} is not valid: use letters, digits and -_.: (at most 150)`,
    )
}

/** How an operation ended: the claim that decides it, written once (`operation_ends`). */

export function operationEnds(store: EventStore) {
  return store.operationEnds
}

/** How an operation ends, as its caller (or the sweeper) says it. */
export interface OperationEnd {
  status: 'completed' | 'failed'
  error?: string | Error
  abandoned?: boolean
}

/**
 * The operation records of one service, written in groups: concurrent commands share one insert
 * of their records, one insert of their end claims and one update of the statuses they end with,
 * so the round trips per command fall as load rises (the gateway's mutations run many at once).
 * Each caller still waits for its own write: the operation is recorded before its command runs.
 */
export interface OperationRecorder {
  /** Records a new operation; `OperationIdError` when one with its id is recorded already. */
  start(record: OperationRecord): Promise<void>
  /**
   * Records the operation's end. The first end wins: it is claimed by an insert
   * (`operation_ends`, one per operation), so a completion racing the sweeper's "abandoned"
   * cannot both be written (concurrent updates of one document are not atomic on every server).
   * The operation's status is then set from the claim, by whoever finds it (a caller that died
   * after claiming is finished by the next one). Returns false when another end was claimed first.
   *
   * An operation archived before it ended is archived again with its end, so its archive mark
   * (and the expiry that came with it) is cleared; with retention but no archiving,
   * `expireAfterMs` counts from the end.
   */
  end(id: string, end: OperationEnd): Promise<boolean>
}

export function operationRecorder(store: EventStore, expireAfterMs?: number): OperationRecorder {
  const starts = groupCommit<OperationRecord, undefined>(async (records) => {
    const { failed, existing } = await insertNew(store.operations, records.map(inCurrentFormat))
    return records.map((record, i) =>
      existing.has(i)
        ? new OperationIdError(
            `operation ${record._id} is recorded already: an id names one command`,
            ErrorCodes.OperationIdTaken,
          )
        : failed.has(i)
          ? new Error(`MongoDB did not record operation ${record._id}`)
          : undefined,
    )
  }, groupWrites)

  const ends = groupCommit<OperationEndRecord, boolean>(async (claims) => {
    // One end time for the group: the moment its claims are written.
    const endedAt = new Date()
    const stamped = claims.map((claim) => ({
      ...inCurrentFormat(claim),
      endedAt,
      // The claim goes when its operation goes: until then it keeps a later end from winning.
      ...(expireAfterMs === undefined
        ? {}
        : { expireAt: new Date(endedAt.getTime() + expireAfterMs) }),
    }))
    const { failed, existing } = await insertNew(operationEnds(store), stamped)
    const won = stamped.filter((_, i) => !failed.has(i) && !existing.has(i))
    await applyEnds(store, won, expireAfterMs)
    for (const [i, claim] of stamped.entries()) {
      if (!existing.has(i)) continue
      const decided = await operationEnds(store).findOne({ _id: claim._id })
      if (decided) await applyEnds(store, [decided], expireAfterMs)
    }
    return stamped.map((claim, i) =>
      failed.has(i)
        ? new Error(`MongoDB did not record the end of operation ${claim._id}`)
        : !existing.has(i),
    )
  }, groupWrites)

  return {
    start: (record) => starts.add(record),
    end: (id, end) =>
      ends.add({
        _id: id,
        status: end.status,
        ...(end.error
          ? { error: storableText(end.error instanceof Error ? end.error.message : end.error) }
          : {}),
        endedAt: new Date(),
        ...(end.abandoned ? { abandoned: true } : {}),
      }),
  }
}

/**
 * Sets the status of ended operations from their claims: one update for all those that end
 * alike (the usual `completed`), one each otherwise. `status: 'started'` beside the ids lets
 * FerretDB read only operations still running, not the whole collection, for the `$in`.
 */
async function applyEnds(
  store: EventStore,
  claims: OperationEndRecord[],
  expireAfterMs: number | undefined,
): Promise<void> {
  const alike = new Map<string, OperationEndRecord[]>()
  for (const claim of claims) {
    const key = JSON.stringify([claim.status, claim.error ?? null, claim.endedAt.getTime()])
    alike.set(key, [...(alike.get(key) ?? []), claim])
  }
  for (const group of alike.values()) {
    const end = group[0]!
    const ids = group.map((claim) => claim._id)
    await store.operations.updateMany(
      group.length === 1 ? { _id: end._id } : { status: 'started', _id: { $in: ids } },
      {
        $set: {
          status: end.status,
          endedAt: end.endedAt,
          archived: false,
          ...(end.error ? { error: end.error } : {}),
          ...(expireAfterMs === undefined
            ? {}
            : { expireAt: new Date(end.endedAt.getTime() + expireAfterMs) }),
        },
        $unset: expireAfterMs === undefined ? { archivedAt: '', expireAt: '' } : { archivedAt: '' },
      },
    )
  }
}

/** Why the sweeper ended an operation. */
export function abandonedReason(deadlineMs: number): string {
  return `abandoned: not ended within its deadline of ${Math.round(deadlineMs / 1000)} s (its process stopped, or the command never finished); its events and chain are kept`
}

/**
 * Ends operations left `started` past their deadline, in every instance (the end claim makes
 * each end once): their process died between recording the command and ending it. Reads only
 * operations still `started`. Returns a stop function.
 */
export function startAbandonedOperationSweeper(options: {
  store: EventStore
  recorder: OperationRecorder
  operations: Required<OperationOptions>
  logger: Logger
}): () => Promise<void> {
  const { store, recorder, operations, logger } = options
  const sweepOnce = async () => {
    const now = Date.now()
    const started = await store.operations
      .find({ status: 'started' }, { projection: { startedAt: 1, deadlineAt: 1 } })
      .toArray()
    let ended = 0
    for (const operation of started) {
      const deadline =
        operation.deadlineAt?.getTime() ?? operation.startedAt.getTime() + operations.deadlineMs
      if (deadline > now) continue
      const deadlineMs = deadline - operation.startedAt.getTime()
      const end = { status: 'failed' as const, error: abandonedReason(deadlineMs), abandoned: true }
      if (await recorder.end(operation._id, end)) ended++
    }
    if (ended > 0)
      logger.warn({ ended }, 'ended operations left started past their deadline as abandoned')
  }
  return runEvery(operations.sweepIntervalMs, sweepOnce, (error) =>
    logger.warn({ err: error }, 'could not look for abandoned operations; trying again'),
  )
}

export interface OperationStarterOptions {
  recorder: OperationRecorder
  service: string
  publisher: Publisher
  changes: ChangeDependencies
  /** The stream writer of each operation (`event-sourcing/streams.ts`). */
  streamWriter: (lineage: AppendLineage) => StreamWriter
  operations: Required<OperationOptions>
  /** Without archiving, how long an ended operation stays in MongoDB (retention). */
  expireAfterMs?: number
  logger: Logger
  /** Starts a span per operation, ended with it; absent when tracing is off. */
  tracing?: ServiceTracing
}

/**
 * Records operations: one insert under the id (a new one, or the caller's; shared with concurrent
 * commands), then an `Operation` whose events go through the service's publisher.
 */
export function operationStarter(options: OperationStarterOptions) {
  const { recorder, service, publisher, changes, operations, expireAfterMs, logger, tracing } =
    options
  const { streamWriter } = options
  return async ({
    name,
    input,
    actor,
    id = newId(),
    deadlineMs,
  }: StartOperationInput): Promise<Operation> => {
    checkOperationId(id)
    const startedAt = new Date()
    // Belongs to the current span (the request that asked for it), and its events to it.
    const span = tracing?.start(operationSpan({ id, name, service }))
    const trace = span?.context
    try {
      await recorder.start({
        _id: id,
        archived: false,
        name,
        input: input ?? null,
        actor: actor ?? null,
        status: 'started',
        service,
        startedAt,
        deadlineAt: new Date(startedAt.getTime() + (deadlineMs ?? operations.deadlineMs)),
        ...(expireAfterMs === undefined
          ? {}
          : { expireAt: new Date(startedAt.getTime() + expireAfterMs) }),
        ...(trace ? { trace } : {}),
      })
    } catch (error) {
      span?.end(error)
      throw error
    }
    const end = async (status: 'completed' | 'failed', error?: string | Error) => {
      span?.end(status === 'failed' ? (error ?? 'failed') : undefined)
      const recorded = await recorder.end(id, { status, error })
      if (!recorded)
        logger.warn(
          { operationId: id, status },
          'the operation had ended already (past its deadline, as abandoned): this end is not recorded',
        )
      return recorded
    }
    return {
      id,
      name,
      ...streamWriter({ operationId: id, ...(span ? { trace: span } : {}) }),
      publish: (definition, data) =>
        publisher.publish(definition, data, { operationId: id, ...(span ? { trace: span } : {}) }),
      change: (entity, changeInput) => makeChange(changes, id, entity, changeInput, span),
      complete: () => end('completed'),
      fail: (reason) => end('failed', reason),
    }
  }
}
