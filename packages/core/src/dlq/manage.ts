import type { JetStreamClient } from '@nats-io/jetstream'
import { headers as natsHeaders } from '@nats-io/transport-node'
import { MongoServerError, type Filter } from 'mongodb'
import { durableName } from '../consume/consumer-group.ts'
import { eventHeaders, redriveSubject } from '../publish/wire.ts'
import type { DlqAction, DlqRecord, DlqStatus, EventStore } from '../store/event-store.ts'

/** Which DLQ entries: every field optional; `from`/`to` bound `createdAt`. */
export interface DlqFilter {
  service?: string
  consumerGroup?: string
  subject?: string
  status?: DlqStatus
  from?: Date
  to?: Date
}

/** An action's outcome: done (with the entry as it is now), or refused with a reason. */
export type DlqActionResult = { ok: true; entry: DlqRecord } | { ok: false; reason: string }

export interface DlqManager {
  /** Newest first; `limit` at most 500. */
  list(
    filter?: DlqFilter,
    page?: { limit?: number; skip?: number },
  ): Promise<{ entries: DlqRecord[]; total: number }>
  get(id: string): Promise<DlqRecord | null>
  /**
   * Delivers the entry again to its consumer group only, with the same eventId, operationId and
   * parentId. Refused unless the entry is open.
   */
  redrive(id: string, by: string): Promise<DlqActionResult>
  /** Marks it discarded, with the reason, kept for audit. Refused unless open. */
  discard(id: string, by: string, reason: string): Promise<DlqActionResult>
  /** Marks it fixed by hand. Refused unless open. */
  resolve(id: string, by: string, note?: string): Promise<DlqActionResult>
  /** Redrives every open entry the filter selects; reports each step and what it did. */
  redriveWhere(
    filter: DlqFilter,
    by: string,
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ total: number; redriven: string[]; refused: { id: string; reason: string }[] }>
}

function query(filter: DlqFilter): Filter<DlqRecord> {
  const q: Filter<DlqRecord> = {}
  if (filter.service) q.service = filter.service
  if (filter.consumerGroup) q.consumerGroup = filter.consumerGroup
  if (filter.subject) q.subject = filter.subject
  if (filter.status) q.status = filter.status
  if (filter.from || filter.to) {
    q.createdAt = {
      ...(filter.from ? { $gte: filter.from } : {}),
      ...(filter.to ? { $lt: filter.to } : {}),
    }
  }
  return q
}

export function dlqManager(
  store: EventStore,
  js: JetStreamClient,
  subjectPrefix: string,
): DlqManager {
  const claims = store.db.collection<{ _id: string; action: DlqAction['action']; at: Date }>(
    'dlq_actions',
  )

  /**
   * Claims the entry's current cycle for one action. An insert on a unique `_id` is atomic on every
   * server (an update of the entry is not, on FerretDB), so two racing actions cannot both win.
   */
  const act = async (
    id: string,
    action: DlqAction,
    perform: (entry: DlqRecord) => Promise<void>,
  ): Promise<DlqActionResult> => {
    const entry = await store.dlq.findOne({ _id: id })
    if (!entry) return { ok: false, reason: `no DLQ entry ${id}` }
    const refusal = () => {
      const last = entry.history?.at(-1)
      return `the entry is ${entry.status}${last ? ` (${last.action} by ${last.by} at ${last.at.toISOString()})` : ''}: only open entries can be redriven, discarded or resolved`
    }
    if (entry.status !== 'open') return { ok: false, reason: refusal() }
    try {
      await claims.insertOne({ _id: `${id}#${entry.cycle}`, action: action.action, at: action.at })
    } catch (error) {
      if (error instanceof MongoServerError && error.code === 11000) {
        return { ok: false, reason: 'another action on this entry got there first' }
      }
      throw error
    }
    await perform(entry)
    const status: DlqStatus =
      action.action === 'redrive'
        ? 'redriven'
        : action.action === 'discard'
          ? 'discarded'
          : 'resolved'
    const updated = await store.dlq.findOneAndUpdate(
      { _id: id },
      { $set: { status }, $push: { history: action } },
      { returnDocument: 'after' },
    )
    return { ok: true, entry: updated! }
  }

  const redeliver = async (entry: DlqRecord) => {
    const h = natsHeaders()
    h.set(eventHeaders.eventId, entry.eventId)
    h.set(eventHeaders.subject, entry.subject)
    if (entry.version !== undefined) h.set(eventHeaders.version, String(entry.version))
    if (entry.operationId) h.set(eventHeaders.operationId, entry.operationId)
    if (entry.parentId) h.set(eventHeaders.parentId, entry.parentId)
    const createdAt = entry.headers[eventHeaders.createdAt]?.[0]
    if (createdAt) h.set(eventHeaders.createdAt, createdAt)
    h.set(eventHeaders.redelivery, 'redrive')
    const [service, handler] = [entry.service, entry.handler]
    await js.publish(redriveSubject(subjectPrefix, durableName(service, handler)), entry.payload, {
      // Not the event's id: JetStream would drop it as a duplicate of the original.
      msgID: `${entry._id}#redrive${entry.cycle}`,
      headers: h,
    })
  }

  const manager: DlqManager = {
    async list(filter = {}, { limit = 50, skip = 0 } = {}) {
      const q = query(filter)
      const [entries, total] = await Promise.all([
        store.dlq.find(q).sort({ createdAt: -1 }).skip(skip).limit(Math.min(limit, 500)).toArray(),
        store.dlq.countDocuments(q),
      ])
      return { entries, total }
    },
    get: (id) => store.dlq.findOne({ _id: id }),
    redrive: (id, by) => act(id, { action: 'redrive', by, at: new Date() }, redeliver),
    discard: (id, by, reason) =>
      act(id, { action: 'discard', by, at: new Date(), reason }, async () => {}),
    resolve: (id, by, note) =>
      act(
        id,
        { action: 'resolve', by, at: new Date(), ...(note ? { reason: note } : {}) },
        async () => {},
      ),
    async redriveWhere(filter, by, onProgress) {
      const ids = (
        await store.dlq
          .find(query({ ...filter, status: 'open' }), { projection: { _id: 1 } })
          .toArray()
      ).map((e) => e._id)
      const redriven: string[] = []
      const refused: { id: string; reason: string }[] = []
      for (const [done, id] of ids.entries()) {
        const result = await manager.redrive(id, by)
        if (result.ok) redriven.push(id)
        else refused.push({ id, reason: result.reason })
        onProgress?.(done + 1, ids.length)
      }
      return { total: ids.length, redriven, refused }
    },
  }
  return manager
}
