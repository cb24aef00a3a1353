import { newId } from '@event-driven/core'
import type { EventStore } from '@event-driven/core/admin'
import type { Document } from 'mongodb'

/**
 * A recorded history, written fast with batched inserts: what the blog service leaves behind
 * when a user renames themself. Each operation has three events (the rename, and the blog's and
 * the comment's follow-ups), each event is finished by two consumer groups, one operation in a
 * hundred has a failed delivery and one in a thousand an open DLQ entry. Times are spread over
 * `spanMs` up to `endsAt`, and ids carry their time (UUIDv7), as the framework writes them.
 */
export interface HistoryOptions {
  events: number
  endsAt: Date
  spanMs: number
  /** Set on everything written, as retention would have: when it may be removed. */
  expireAt?: Date
}

export interface HistoryWritten {
  operations: number
  events: number
  processed: number
  failures: number
  dlq: number
  /** A few operations of the newest tenth, to read. */
  recent: { id: string; actor: string }[]
}

const groups = ['blogs.updateAuthorName', 'comments.updateAuthorName']
const data = { userId: 'u', firstName: 'Ada', lastName: 'Lovelace', note: 'x'.repeat(150) }

export async function writeHistory(
  store: EventStore,
  options: HistoryOptions,
): Promise<HistoryWritten> {
  const operations = Math.max(1, Math.floor(options.events / 3))
  const actors = Math.max(1, Math.floor(operations / 5))
  const written: HistoryWritten = {
    operations: 0,
    events: 0,
    processed: 0,
    failures: 0,
    dlq: 0,
    recent: [],
  }
  // Documents waiting, by collection name: one insertMany each per flush.
  const batch: Record<string, Document[]> = {
    operations: [],
    operation_ends: [],
    events: [],
    processed: [],
    failures: [],
    dlq: [],
  }
  const flush = () =>
    Promise.all(
      Object.entries(batch).map(async ([name, docs]) => {
        batch[name] = []
        if (docs.length > 0) await store.db.collection(name).insertMany(docs, { ordered: false })
      }),
    )
  const expire = options.expireAt ? { expireAt: options.expireAt } : {}
  const start = options.endsAt.getTime() - options.spanMs
  for (let n = 0; n < operations; n++) {
    const at = new Date(start + Math.floor((options.spanMs * (n + 1)) / operations))
    const id = newId(at.getTime())
    const actor = `user-${n % actors}`
    batch.operations!.push({
      _id: id,
      name: 'userUpdateNames',
      input: data,
      actor,
      status: 'completed',
      service: 'users',
      startedAt: at,
      endedAt: at,
      archived: false,
      ...expire,
    })
    batch.operation_ends!.push({ _id: id, status: 'completed', endedAt: at, ...expire })
    const root = newId(at.getTime())
    const subjects = ['User.nameUpdated', 'Blog.authorUpdated', 'Comment.authorUpdated']
    subjects.forEach((subject, i) => {
      const eventId = i === 0 ? root : newId(at.getTime())
      batch.events!.push({
        _id: eventId,
        subject,
        version: 1,
        data,
        operationId: id,
        parentId: i === 0 ? id : root,
        publishedBy:
          i === 0 ? { service: 'users' } : { service: 'blog', consumerGroup: groups[i - 1] },
        createdAt: at,
        publishedAt: at,
        archived: false,
        ...expire,
      })
      for (const group of groups)
        batch.processed!.push({
          _id: `${eventId}/${group}`,
          operationId: id,
          processedAt: at,
          ...expire,
        })
    })
    if (n % 100 === 7) {
      batch.failures!.push({
        _id: `${root}/${groups[1]}`,
        eventId: root,
        consumerGroup: groups[1],
        subject: subjects[0],
        operationId: id,
        failures: 1,
        attempts: [{ attempt: 1, message: 'comments store timed out', at }],
        firstFailedAt: at,
        lastFailedAt: at,
        archived: false,
      })
      written.failures += 1
    }
    if (n % 1000 === 7) {
      batch.dlq!.push({
        _id: `dlq-${root}`,
        eventId: root,
        consumerGroup: groups[1],
        service: 'blog',
        handler: 'updateAuthorName',
        subject: subjects[0],
        version: 1,
        operationId: id,
        parentId: id,
        payload: Buffer.from(JSON.stringify(data)),
        headers: Buffer.from('NATS/1.0\r\n\r\n'),
        trusted: true,
        reason: 'failed 5 times',
        attempts: [],
        status: 'open',
        stream: 'EVENTS',
        streamSequence: n,
        createdAt: at,
      })
      written.dlq += 1
    }
    if (n >= operations * 0.9 && written.recent.length < 40 && n % 7 === 0)
      written.recent.push({ id, actor })
    if (batch.events!.length >= 6_000) await flush()
  }
  await flush()
  written.operations = operations
  written.events = operations * 3
  written.processed = operations * 3 * groups.length
  return written
}
