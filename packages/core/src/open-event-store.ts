import type { ServiceTracing } from './observe/tracing.ts'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { MongoClient } from 'mongodb'
import type { ArchiveOptions } from './archive/archiver.ts'
import { s3Client } from './archive/archiver.ts'
import { listConsumerGroups, type ConsumerGroupInfo } from './consume/group-info.ts'
import { dlqManager, type DlqManager } from './dlq/manage.ts'
import { connectToNats, isNatsConnection, type NatsTarget } from './nats-connection.ts'
import { serviceDefaults } from './options.ts'
import { loadSigningSecret, messageSigner } from './publish/signature.ts'
import {
  replayEvents,
  selectEvents,
  type EventSelection,
  type EventSource,
  type ReplayDependencies,
  type ReplayOptions,
  type ReplayResult,
} from './replay/replay.ts'
import {
  changePartitions,
  partitionStatus,
  type PartitionChange,
  type PartitionStatus,
} from './ordering/partitions.ts'
import { eventStore, type EventRecord, type EventStore } from './store/event-store.ts'
import type { StreamOptions } from './streams.ts'

export interface OpenEventStoreOptions {
  /** A MongoDB URL, or a connected client (which `close()` leaves open). */
  mongodb: string | MongoClient
  /** @default 'event_driven' */
  database?: string
  /**
   * NATS, for what publishes or asks JetStream: DLQ redrives, replays, consumer groups. (Tools
   * that only read or rewrite MongoDB use `connectEventStore`.)
   */
  nats: NatsTarget
  /** The system's stream (its name and subject prefix). @default `EVENTS`, `events` */
  stream?: Pick<StreamOptions, 'name' | 'subjectPrefix'>
  /** @default `EVENT_SIGNING_KEY`, else the one stored in the event store */
  signingKey?: string
  /** Where replays and reads find archived events. */
  archive?: ArchiveOptions
  /** Starts a span per redrive and per replay (`openTelemetryTracing()`). @default off */
  tracing?: ServiceTracing
}

/**
 * The event store as tools see it (the CLI, the admin API, a dashboard of your own): the DLQ,
 * replays, reads, consumer groups. Nothing a service does at start happens here: no stream or
 * index is provisioned, no handler runs, no signal handler is installed.
 */
export interface EventStoreTools {
  store: EventStore
  dlq: DlqManager
  stream: { name: string; subjectPrefix: string }
  consumerGroups(): Promise<ConsumerGroupInfo[]>
  replay(options: ReplayOptions): Promise<ReplayResult>
  readEvents(select: EventSelection, from?: EventSource): AsyncIterable<EventRecord>
  /** The partitions of keyed events: what waits in them, and changing their number. */
  partitions: {
    status(): Promise<PartitionStatus>
    change(partitions: number, options?: { force?: boolean }): Promise<PartitionChange>
  }
  /** Closes the connections opened here. */
  close(): Promise<void>
}

/** What the admin API and its views read and act on: a store's tools, or a running service. */
export type AdminSource = Pick<EventStoreTools, 'store' | 'dlq' | 'stream' | 'consumerGroups'>

/** The tools over a store and its stream: what `openEventStore` and a service both offer. */
export function storeTools(deps: ReplayDependencies): Omit<EventStoreTools, 'close'> {
  const { store, js, jsm, stream, signer } = deps
  return {
    store,
    stream: { name: stream.name, subjectPrefix: stream.subjectPrefix },
    dlq: dlqManager(store, js, stream.subjectPrefix, signer, deps.tracing),
    consumerGroups: () => listConsumerGroups(jsm, stream.name),
    replay: (replayOptions) => replayEvents(deps, replayOptions),
    readEvents: (select, from) => selectEvents(deps, select, from),
    partitions: {
      status: () => partitionStatus(jsm, stream),
      change: (partitions, options) => changePartitions(jsm, stream, partitions, options),
    },
  }
}

export async function openEventStore(options: OpenEventStoreOptions): Promise<EventStoreTools> {
  const mongo =
    typeof options.mongodb === 'string'
      ? await new MongoClient(options.mongodb, { serverSelectionTimeoutMS: 5_000 }).connect()
      : options.mongodb
  const ownsMongo = typeof options.mongodb === 'string'
  const ownsNats = !isNatsConnection(options.nats)
  let nc: NatsConnection | undefined
  const close = async () => {
    if (nc && ownsNats) await nc.drain().catch(() => nc!.close())
    if (ownsMongo) await mongo.close().catch(() => {})
  }
  try {
    nc = isNatsConnection(options.nats)
      ? options.nats
      : await connectToNats(options.nats, 'event-driven-tools')
    const store = eventStore(mongo.db(options.database ?? serviceDefaults.database))
    const stream = { ...serviceDefaults.stream, ...options.stream }
    const signer = messageSigner(
      await loadSigningSecret(store, options.signingKey ?? process.env.EVENT_SIGNING_KEY),
    )
    const js = jetstream(nc)
    const jsm = await jetstreamManager(nc)
    const archive = options.archive && { ...options.archive, s3: s3Client(options.archive.s3) }
    return {
      ...storeTools({ store, js, jsm, stream, signer, archive, tracing: options.tracing }),
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}
