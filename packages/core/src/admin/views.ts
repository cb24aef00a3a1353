import type { Filter } from 'mongodb'
import { consumerGroupOf } from '../consume/group-names.ts'
import { filteredSubject } from '../ordering/keyed-subjects.ts'
import type { AdminSource as Service } from '../open-event-store.ts'
import { subjectPattern } from '../names.ts'
import type { EventStore, OperationRecord } from '../store/event-store.ts'
import type { IndexDeclaration } from '../store/indexes.ts'
import { keysetPage, olderThan } from '../store/keyset.ts'

/**
 * What the dashboard shows beyond single records: the operations page, the map of subjects,
 * consumer groups with their DLQ entries. The operations page reads by equality and keyset
 * (docs/reads.md); the subject map still aggregates every event kept.
 */

/** `$group` by a field with `$sum`, as a Map (the accumulators FerretDB v1 has). */
async function countBy(
  collection: EventStore['events'] | EventStore['failures'] | EventStore['dlq'],
  field: string,
  match: Record<string, unknown>,
): Promise<Map<string, number>> {
  const rows = await (collection as EventStore['events'])
    .aggregate<{ _id: string; n: number }>([
      { $match: match },
      { $group: { _id: `$${field}`, n: { $sum: 1 } } },
    ])
    .toArray()
  return new Map(rows.map((row) => [String(row._id), row.n]))
}

export interface OperationQuery {
  /**
   * Exact: an operation's id, name or actor as recorded; an event's id (finds its operation); or
   * a subject (the operations of its latest `subjectSearchEvents` events).
   */
  search?: string
  status?: OperationRecord['status']
  limit: number
  /** The last operation of the page before (its `next`): the page holds older ones. */
  before?: string
}

/**
 * The indexes of the operations page on MongoDB. FerretDB sorts after fetching every operation,
 * so there the page costs what the collection holds: retention keeps it bounded.
 */
export const operationListIndexes: readonly IndexDeclaration[] = [
  {
    collection: 'operations',
    keys: { startedAt: -1, _id: -1 },
    serves: 'operations, newest first',
    onFerretDb: 'scan',
  },
  {
    collection: 'operations',
    keys: { status: 1, startedAt: -1, _id: -1 },
    serves: 'operations of one status, newest first',
    onFerretDb: 'scan',
  },
  { collection: 'operations', keys: { name: 1 }, serves: 'operations found by name' },
  { collection: 'operations', keys: { actor: 1 }, serves: 'operations found by actor' },
  {
    collection: 'events',
    keys: { subject: 1, createdAt: -1 },
    serves: 'operations found by subject: its latest events',
    onFerretDb: 'scan',
  },
]

/**
 * How many of a subject's latest events a search by subject reads: their operations are what it
 * finds, so an old operation of a busy subject is found by its id or an event's id instead.
 */
export const subjectSearchEvents = 200

/**
 * The operations a search names beyond the operations' own fields: the operation of the event
 * with that id (events, then the outbox: one read by `_id` each), and, when the search reads as a
 * subject, the operations of its latest events (equality on `subject`, newest first, bounded).
 */
async function operationIdsOfEvents(store: EventStore, search: string): Promise<string[]> {
  const byId = { projection: { operationId: 1 } } as const
  const [published, pending, ofSubject] = await Promise.all([
    store.events.findOne({ _id: search }, byId),
    store.outbox.findOne({ _id: search }, byId),
    subjectPattern.test(search)
      ? store.events
          .find({ subject: search }, byId)
          .sort({ createdAt: -1 })
          .limit(subjectSearchEvents)
          .toArray()
      : [],
  ])
  const ids = [published, pending, ...ofSubject].flatMap((e) => (e ? [e.operationId] : []))
  return [...new Set(ids)]
}

/**
 * Operations, newest first, a page at a time: keyset paging from the page before's last
 * operation, never a skip or a count (both cost the whole collection). A search is exact: an
 * operation's id, name or actor (three equality reads side by side: `$or` and `$regex` scan on
 * FerretDB), an event's id or a subject (`operationIdsOfEvents`, beside them). The operations
 * those events name are read by `_id`: one equality for one, else one `$in` of at most
 * `subjectSearchEvents` ids, which FerretDB answers like the unfiltered page (reading every
 * operation kept) and MongoDB from the `_id` index.
 * Counts of events and failures are the chain's (`operationChain`): per row here they would cost
 * a read of the event store each.
 */
export async function listOperations(store: EventStore, query: OperationQuery) {
  const filter: Filter<OperationRecord> = query.status ? { status: query.status } : {}
  if (query.before !== undefined) {
    const last = await store.operations.findOne(
      { _id: query.before },
      { projection: { startedAt: 1 } },
    )
    if (!last) return { operations: [], next: null }
    Object.assign(filter, olderThan('startedAt', last))
  }
  const newestFirst = (extra: Filter<OperationRecord>) =>
    store.operations
      .find({ ...filter, ...extra }, { projection: { input: 0 } })
      .sort({ startedAt: -1, _id: -1 })
      .limit(query.limit + 1)
      .toArray()
  const search = query.search
  const found = search
    ? (
        await Promise.all([
          newestFirst({ _id: search }),
          newestFirst({ name: search }),
          newestFirst({ actor: search }),
          operationIdsOfEvents(store, search).then((ids) =>
            ids.length === 0
              ? []
              : newestFirst(ids.length === 1 ? { _id: ids[0]! } : { _id: { $in: ids } }),
          ),
        ])
      ).flat()
    : await newestFirst({})
  const unique = [...new Map(found.map((o) => [o._id, o])).values()].sort(
    (a, b) => b.startedAt.getTime() - a.startedAt.getTime() || (a._id < b._id ? 1 : -1),
  )
  const { page, next } = keysetPage(unique, query.limit)
  return {
    operations: page.map((o) => ({
      id: o._id,
      name: o.name,
      actor: o.actor,
      status: o.status,
      startedAt: o.startedAt,
      endedAt: o.endedAt ?? null,
    })),
    /** Pass as `before` for the next (older) page; null on the last. */
    next,
  }
}

/** A group with what JetStream says, its open DLQ entries, and whether it looks stuck. */
export async function consumerGroupsWithDlq(service: Service, now = Date.now()) {
  const [groups, dlqOpen] = await Promise.all([
    service.consumerGroups(),
    countBy(service.store.dlq, 'consumerGroup', { status: 'open' }),
  ])
  return groups.map((group) => {
    const consumerGroup = consumerGroupOf(group.durable)
    const lastActive = group.lastActive ? Date.parse(group.lastActive) : Number.NaN
    return {
      ...group,
      consumerGroup,
      dlqOpen: dlqOpen.get(consumerGroup) ?? 0,
      // Work waits, and nothing was delivered for a minute: no instance is pulling.
      stuck:
        group.pending + group.inFlight > 0 &&
        (Number.isNaN(lastActive) || now - lastActive > 60_000),
    }
  })
}

/**
 * The map of the system: for each subject, who publishes it (services, and the consumer groups
 * whose handlers emit it), which consumer groups consume it, how many in the last hour and day,
 * its failures and open DLQ entries.
 */
export async function subjectMap(service: Service, now = Date.now()) {
  const { store } = service
  const groups = await service.consumerGroups()
  const [publishers, lastHour, lastDay, failures, dlqOpen] = await Promise.all([
    store.events
      .aggregate<{ _id: { subject: string; service: string; group: string | null }; n: number }>([
        {
          $group: {
            _id: {
              subject: '$subject',
              service: '$publishedBy.service',
              group: '$publishedBy.consumerGroup',
            },
            n: { $sum: 1 },
          },
        },
      ])
      .toArray(),
    countBy(store.events, 'subject', {
      createdAt: { $gte: new Date(now - 3_600_000) },
    }),
    countBy(store.events, 'subject', {
      createdAt: { $gte: new Date(now - 86_400_000) },
    }),
    countBy(store.failures, 'subject', {}),
    countBy(store.dlq, 'subject', { status: 'open' }),
  ])
  const subjects = new Map<
    string,
    { publishers: Set<string>; consumers: Set<string>; total: number }
  >()
  const entry = (subject: string) => {
    const found = subjects.get(subject) ?? { publishers: new Set(), consumers: new Set(), total: 0 }
    subjects.set(subject, found)
    return found
  }
  for (const row of publishers) {
    const s = entry(row._id.subject)
    s.publishers.add(row._id.group ?? row._id.service)
    s.total += row.n
  }
  for (const group of groups) {
    for (const filter of group.filterSubjects) {
      const subject = filteredSubject(service.stream.subjectPrefix, filter)
      if (subject) entry(subject).consumers.add(consumerGroupOf(group.durable))
    }
  }
  return [...subjects.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([subject, s]) => ({
      subject,
      publishers: [...s.publishers].sort(),
      consumers: [...s.consumers].sort(),
      counts: {
        lastHour: lastHour.get(subject) ?? 0,
        lastDay: lastDay.get(subject) ?? 0,
        total: s.total,
      },
      failures: failures.get(subject) ?? 0,
      failureRate: s.total === 0 ? 0 : (failures.get(subject) ?? 0) / s.total,
      dlqOpen: dlqOpen.get(subject) ?? 0,
    }))
}

/** What the admin API answers, as the types its clients (the dashboard) read. */
export type OperationList = Awaited<ReturnType<typeof listOperations>>
export type ConsumerGroupSummary = Awaited<ReturnType<typeof consumerGroupsWithDlq>>[number]
export type SubjectSummary = Awaited<ReturnType<typeof subjectMap>>[number]
