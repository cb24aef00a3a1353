import type { Filter } from 'mongodb'
import { consumerGroupOf } from '../consume/group-names.ts'
import type { AdminSource as Service } from '../open-event-store.ts'
import { outboxUnpublished, type EventStore, type OperationRecord } from '../store/event-store.ts'
import { escapeRegex } from '../store/regex.ts'

/**
 * What the dashboard shows beyond single records: operations with their counts, the map of
 * subjects, consumer groups with their DLQ entries. Off the hot path: these queries may scan.
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
  /** Part of the name, actor or id. */
  search?: string
  status?: OperationRecord['status']
  limit: number
  skip: number
}

/** Operations, newest first, each with how many events and failures it has so far. */
export async function listOperations(store: EventStore, query: OperationQuery) {
  const filter: Filter<OperationRecord> = {}
  if (query.status) filter.status = query.status
  if (query.search) {
    const pattern = { $regex: escapeRegex(query.search), $options: 'i' }
    filter.$or = [{ name: pattern }, { actor: pattern }, { _id: query.search }]
  }
  const [operations, total] = await Promise.all([
    store.operations
      .find(filter)
      .sort({ startedAt: -1 })
      .skip(query.skip)
      .limit(query.limit)
      .toArray(),
    store.operations.countDocuments(filter),
  ])
  const ids = operations.map((o) => o._id)
  const inIds = { operationId: { $in: ids } }
  const [events, pending, failures] = await Promise.all([
    countBy(store.events, 'operationId', inIds),
    countBy(store.outbox, 'operationId', { ...inIds, ...outboxUnpublished }),
    countBy(store.failures, 'operationId', inIds),
  ])
  return {
    total,
    operations: operations.map((o) => ({
      id: o._id,
      name: o.name,
      actor: o.actor,
      status: o.status,
      startedAt: o.startedAt,
      endedAt: o.endedAt ?? null,
      events: (events.get(o._id) ?? 0) + (pending.get(o._id) ?? 0),
      failures: failures.get(o._id) ?? 0,
    })),
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
  const prefix = `${service.stream.subjectPrefix}.`
  for (const group of groups) {
    for (const filter of group.filterSubjects) {
      if (!filter.startsWith(prefix) || filter.startsWith(`${prefix}_`)) continue
      entry(filter.slice(prefix.length)).consumers.add(consumerGroupOf(group.durable))
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
