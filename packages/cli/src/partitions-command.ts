// event-driven partitions: the partitions of keyed events, what waits in them, changing their number.
import { openEventStore, type PartitionStatus } from '@event-driven/core/admin'
import { serverFlags, serverSettings, serversUsage, type Io, parseCommand } from './settings.ts'

const usage = `usage: event-driven partitions [set <n> [--force]] [--json]

  (no action)     the stream's partition count, and per ordered consumer group the events
                  pending and in flight in each partition
  set <n>         change the partition count (1 to 1024); refused while ordered groups have events
                  waiting, since a key may move to another partition (docs/ordering.md). Restart the
                  services afterwards: they handle the new partitions from their next start.
  --force         change it even so (those keys may be handled out of order once)
  --json          print JSON
${serversUsage}`

export async function runPartitions(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      ...serverFlags,
    },
    usage,
    io,
    2,
  )
  if (typeof parsed === 'number') return parsed
  const { values, positionals } = parsed
  const [action, count] = positionals
  const partitions = Number(count)
  if (
    (action !== undefined && action !== 'set') ||
    (action === 'set' && !(Number.isInteger(partitions) && partitions >= 1 && partitions <= 1_024))
  ) {
    io.err(`say "set <n>" with n a whole number from 1 to 1024\n\n${usage}`)
    return 2
  }
  const service = await openEventStore(serverSettings(values, { nats: true }))
  try {
    if (action === undefined) {
      const status = await service.partitions.status()
      io.out(values.json ? JSON.stringify(status, null, 2) : describeStatus(status))
      return 0
    }
    const change = await service.partitions.change(partitions, { force: values.force })
    if (values.json) io.out(JSON.stringify(change, null, 2))
    else if (!change.ok)
      io.err(
        `${change.reason}\n${change.busy.map((p) => `  ${p.durable}: ${p.pending} pending, ${p.inFlight} in flight`).join('\n')}`,
      )
    else {
      io.out(
        change.from === change.to
          ? `the stream already has ${change.to} partitions`
          : `partitions: ${change.from ?? 'none'} → ${change.to}; restart the services so they handle every partition`,
      )
      if (change.removed.length > 0) io.out(`removed empty durables: ${change.removed.join(', ')}`)
      if (change.draining.length > 0)
        io.out(
          `still draining (run this again once empty): ${change.draining.map((p) => `${p.durable} (${p.pending + p.inFlight})`).join(', ')}`,
        )
    }
    return change.ok ? 0 : 1
  } finally {
    await service.close()
  }
}

function describeStatus(status: PartitionStatus): string {
  const head =
    status.partitions === undefined
      ? 'the stream does not partition keyed events (its subject transform is not the framework’s): they are handled unordered'
      : `${status.partitions} partitions`
  const groups = status.groups.map(({ consumerGroup, partitions }) => {
    const waiting = partitions.filter((p) => p.pending + p.inFlight > 0)
    const detail = waiting.map(
      (p) => `p${p.partition}: ${p.pending} pending, ${p.inFlight} in flight`,
    )
    return `  ${consumerGroup}: ${partitions.length} partitions${waiting.length ? `; ${detail.join('; ')}` : ', nothing waiting'}`
  })
  return [head, ...(groups.length ? groups : ['  no ordered consumer groups'])].join('\n')
}
