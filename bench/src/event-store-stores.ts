import { createService, type Operation } from '@event-driven/core'
import {
  CommandHandler,
  isExpectedVersionConflictError,
  STREAM_DOES_NOT_EXIST,
} from '@event-driven-io/emmett'
import { getMongoDBEventStore } from '@event-driven-io/emmett-mongodb'
import { MongoClient, MongoServerError } from 'mongodb'
import { pino } from 'pino'
import {
  counter,
  CounterAdded,
  defineCounters,
} from '../../packages/core/src/testing/counter-stream.ts'
import type { BenchContext } from './context.ts'
import { roundTripCounter } from './measure.ts'

/** What every appended event holds: who appended it and its place among that writer's appends. */
export type CounterData = { by: number; writer: string; n: number }

/**
 * One event store as the scenarios drive it (`event-store-scenarios.ts`): the core's streams,
 * or Emmett's MongoDB event store. Each store is one instance with connections of its own.
 */
export interface BenchEventStore {
  /** Appends one event at `position` (known to be the stream's); resolves with the new one. */
  append(stream: string, position: number, data: CounterData): Promise<number>
  /**
   * Reads the stream, decides one event, appends at the position read, again on a conflict (at
   * most `maxAttempts` decisions, no delay between them); `decided` is called for each decision.
   */
  command(
    stream: string,
    data: CounterData,
    maxAttempts: number,
    decided: () => void,
  ): Promise<void>
  /** Reads the whole stream: its events' data, in order, and its position. */
  read(stream: string): Promise<{ events: CounterData[]; position: number }>
  /** Folds the whole stream into the counter's state: its events counted. */
  aggregate(stream: string): Promise<number>
  /** MongoDB commands this instance has sent (its own client's command monitoring). */
  roundTrips(): number
  close(): Promise<void>
}

export type OpenStore = () => Promise<BenchEventStore>

/**
 * The core's event-sourced streams: a started service of its own (its own MongoClient and NATS
 * connection) on `names`' database and JetStream stream, the counter fixture's stream type, one
 * operation that appends. `publish` is the baseline: `op.publish` of the same event.
 */
export function coreStore(
  ctx: BenchContext,
  names: { database: string; stream: string; subjectPrefix: string },
): () => Promise<BenchEventStore & { publish(data: CounterData): Promise<void> }> {
  return async () => {
    const mongo = await new MongoClient(ctx.mongodbUrl, { monitorCommands: true }).connect()
    const trips = roundTripCounter(mongo)
    const service = await createService({
      name: 'bench',
      nats: ctx.natsUrl,
      mongodb: mongo,
      database: names.database,
      stream: { name: names.stream, subjectPrefix: names.subjectPrefix },
      logger: pino({ level: 'warn' }),
      stopOnSignals: false,
    })
    const counters = defineCounters(service)
    await service.start()
    const op: Operation = await service.startOperation({ name: 'bench' })
    trips.reset()
    return {
      async publish(data) {
        await op.publish(CounterAdded, data)
      },
      async append(stream, position, data) {
        const appended = await op.appendToStream(
          counters.name(stream),
          [{ event: CounterAdded, data }],
          { expectedStreamPosition: position },
        )
        return appended.position
      },
      async command(stream, data, maxAttempts, decided) {
        await op.handleCommand(
          counters.name(stream),
          {
            ...counter,
            decide: () => {
              decided()
              return [{ event: CounterAdded, data }]
            },
          },
          { maxAttempts },
        )
      },
      async read(stream) {
        const { events, position } = await service.streams.readStream(counters.name(stream))
        return { events: events.map((e) => e.data as CounterData), position }
      },
      async aggregate(stream) {
        const { state } = await service.streams.aggregateStream(counters.name(stream), counter)
        return state.added
      },
      roundTrips: () => trips.count,
      async close() {
        trips.stop()
        await service.stop()
        await mongo.close()
      },
    }
  }
}

type EmmettCounterAdded = { type: 'Counter.added'; data: CounterData }

const emmettCounter = {
  initialState: () => 0,
  evolve: (added: number, _event: EmmettCounterAdded) => added + 1,
}

/** A conflict as Emmett's MongoDB store reports it: its own error, or its upsert's duplicate. */
const isConflict = (error: unknown) =>
  isExpectedVersionConflictError(error) ||
  (error instanceof MongoServerError && error.code === 11000)

/**
 * Emmett's MongoDB event store (`@event-driven-io/emmett-mongodb`) on `database`, with a
 * MongoClient of its own: a document per stream (`emt:counter`), its events in an array. A
 * command is Emmett's `CommandHandler`, retried on a conflict at once (its default waits 100 ms
 * and more, and does not count its upsert's duplicate-key error as one).
 */
export function emmettStore(ctx: BenchContext, database: string): OpenStore {
  return async () => {
    const client = await new MongoClient(ctx.mongodbUrl, { monitorCommands: true }).connect()
    const trips = roundTripCounter(client)
    const store = getMongoDBEventStore({
      client,
      storage: { type: 'COLLECTION_PER_STREAM_TYPE', databaseName: database },
    })
    const handle = CommandHandler<number, EmmettCounterAdded>(emmettCounter)
    const name = (stream: string) => `counter:${stream}`
    // The collection and its index, made before anything is timed.
    await store.collectionFor('counter')
    trips.reset()
    return {
      async append(stream, position, data) {
        const appended = await store.appendToStream<EmmettCounterAdded>(
          name(stream),
          [{ type: 'Counter.added', data }],
          { expectedStreamVersion: position === 0 ? STREAM_DOES_NOT_EXIST : BigInt(position) },
        )
        return Number(appended.nextExpectedStreamVersion)
      },
      async command(stream, data, maxAttempts, decided) {
        await handle(
          store,
          name(stream),
          () => {
            decided()
            return { type: 'Counter.added', data }
          },
          {
            retry: {
              retries: maxAttempts - 1,
              minTimeout: 0,
              maxTimeout: 0,
              factor: 1,
              shouldRetryError: isConflict,
            },
          },
        )
      },
      async read(stream) {
        const read = await store.readStream<EmmettCounterAdded>(name(stream))
        return {
          events: read.events.map((e) => e.data),
          position: Number(read.currentStreamVersion),
        }
      },
      async aggregate(stream) {
        const { state } = await store.aggregateStream<number, EmmettCounterAdded>(
          name(stream),
          emmettCounter,
        )
        return state
      },
      roundTrips: () => trips.count,
      async close() {
        trips.stop()
        await client.close()
      },
    }
  }
}
