import { eventually, type TestNamespace } from '@event-driven/testing'
import { expect } from 'vitest'
import { pino, type Logger } from 'pino'
import { createService, type Service, type ServiceOptions } from '../service.ts'

/** Log lines a test can read: pino's JSON objects, in order. */
export interface CapturedLogs {
  logger: Logger
  lines: Record<string, unknown>[]
  messages(): string[]
}

export function captureLogs(level: pino.Level = 'info'): CapturedLogs {
  const lines: Record<string, unknown>[] = []
  const logger = pino(
    { level },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  )
  return { logger, lines, messages: () => lines.map((l) => String(l.msg)) }
}

/**
 * Settings that make retries, redeliveries and the relay quick enough for tests. A `scope` gives
 * a test its own stream and database, so one test's consumer groups and relays never see
 * another test's events.
 */
export function fastTestOptions(
  ns: TestNamespace,
  scope?: string,
): Omit<ServiceOptions, 'name' | 'nats' | 'mongodb'> {
  const prefix = scope ? `${ns.subjectPrefix}_${scope}` : ns.subjectPrefix
  return {
    database: databaseName(ns, scope),
    stream: { name: `${prefix}_EVENTS`, subjectPrefix: prefix },
    retry: { baseDelayMs: 50, maxDelayMs: 200 },
    ackWaitMs: 1_000,
    publishTimeoutMs: 2_000,
    relay: { intervalMs: 100, minAgeMs: 300 },
    drainTimeoutMs: 10_000,
    stopOnSignals: false,
  }
}

/** The database of a namespace, or of one scope in it (see `fastTestOptions`). */
export function databaseName(ns: TestNamespace, scope?: string): string {
  return scope ? `${ns.database}_${scope}` : ns.database
}

/** A service on the test servers, in the test's namespace, with fast settings. */
export function createTestService(
  ns: TestNamespace,
  urls: { natsUrl: string; mongodbUrl: string },
  name: string,
  { scope, ...overrides }: Partial<ServiceOptions> & { scope?: string } = {},
): Promise<Service> {
  return createService({
    name,
    nats: urls.natsUrl,
    mongodb: urls.mongodbUrl,
    logger: pino({ level: 'silent' }),
    ...fastTestOptions(ns, scope),
    ...overrides,
  })
}

/** Waits for the one DLQ entry of an event in a consumer group and returns its id. */
export async function dlqEntryIdOf(
  service: Service,
  eventId: string,
  consumerGroup: string,
): Promise<string> {
  return eventually(async () => {
    const { entries } = await service.dlq.list({ eventId, consumerGroup })
    expect(entries).toHaveLength(1)
    return entries[0]!._id
  })
}
