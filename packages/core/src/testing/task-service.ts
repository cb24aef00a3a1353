// A service process for tests that kill, restart or run several instances of a real service.
// It handles `Task.created` in consumer group `tasks.recordTask`: marks the start, waits
// HANDLER_DELAY_MS, then counts the run in `effects` (one document per event). Prints `ready`.
// With KEYED=1 it handles the keyed `Task.updated` in the ordered group `tasks.applyUpdate`
// instead, appending each seq to its key's list in `applied`; with HOLD_AFTER=N, the runs that
// start after its N-th hang before their effect, until the process dies (set HANDLER_TIMEOUT_MS).
// Env: NATS_URL, MONGODB_URL, ED_DATABASE, ED_STREAM, ED_SUBJECT_PREFIX, INSTANCE,
//      HANDLER_DELAY_MS (default 0), HANDLER_TIMEOUT_MS (default: the ack wait),
//      CONCURRENCY (default 8), ACK_WAIT_MS (default 1000), KEYED, HOLD_AFTER.
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { createService } from '../service.ts'
import {
  recordEffect,
  recordUpdate,
  TaskCreated,
  TaskUpdated,
  type AppliedRecord,
  type EffectRecord,
} from './task-events.ts'

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const instance = env('INSTANCE', String(process.pid))
const delayMs = Number(env('HANDLER_DELAY_MS', '0'))
const service = await createService({
  name: 'tasks',
  nats: env('NATS_URL'),
  mongodb: env('MONGODB_URL'),
  database: env('ED_DATABASE'),
  stream: { name: env('ED_STREAM'), subjectPrefix: env('ED_SUBJECT_PREFIX') },
  ackWaitMs: Number(env('ACK_WAIT_MS', '1000')),
  retry: { baseDelayMs: 50, maxDelayMs: 200 },
  relay: { intervalMs: 100, minAgeMs: 300 },
  logger: pino({ level: 'warn' }),
  // This process is the service: SIGTERM drains it, then exits (what the shutdown tests send).
  stopOnSignals: true,
})
const starts = service.store.db.collection<{ eventId: string; instance: string; at: Date }>(
  'starts',
)
const effects = service.store.db.collection<EffectRecord>('effects')

const handlerOptions = {
  concurrency: Number(env('CONCURRENCY', '8')),
  ...(process.env.HANDLER_TIMEOUT_MS ? { timeoutMs: Number(process.env.HANDLER_TIMEOUT_MS) } : {}),
}
if (process.env.KEYED === '1') {
  const applied = service.store.db.collection<AppliedRecord>('applied')
  const holdAfter = Number(env('HOLD_AFTER', '0'))
  let started = 0
  service.on(TaskUpdated, { ...handlerOptions, handler: 'applyUpdate' }, async (event) => {
    await starts.insertOne({ eventId: event.id, instance, at: new Date() })
    started++
    if (holdAfter > 0 && started > holdAfter) await new Promise(() => undefined)
    if (delayMs > 0) await sleep(delayMs)
    await recordUpdate({ applied, effects }, event, instance)
  })
} else {
  service.on(TaskCreated, { ...handlerOptions, handler: 'recordTask' }, async (event) => {
    await starts.insertOne({ eventId: event.id, instance, at: new Date() })
    if (delayMs > 0) await sleep(delayMs)
    await recordEffect(effects, event, instance)
  })
}
await service.start()
process.stdout.write('ready\n')
