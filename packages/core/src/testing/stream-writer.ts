// A process that appends to one event-sourced counter stream, for tests that kill it.
// MODE=loop: appends of APPEND_SIZE events (default 50) one after another, each at the position
// the last one ended at, until killed; prints `ready` after the first.
// MODE=crash-after-claimed: one append of APPEND_SIZE events; the process kills itself (SIGKILL)
// right after the append's claim, before anything is published. Prints `ready` first.
// MODE=crash-after-held: the same, killed once its events are held, before the claim.
// Env: NATS_URL, MONGODB_URL, ED_DATABASE, ED_STREAM, ED_SUBJECT_PREFIX, STREAM_ID, MODE.
import { pino } from 'pino'
import { createService } from '../service.ts'
import { CounterAdded, defineCounters } from './counter-stream.ts'

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const mode = env('MODE')
const size = Number(env('APPEND_SIZE', '50'))
const service = await createService({
  name: 'counters',
  nats: env('NATS_URL'),
  mongodb: env('MONGODB_URL'),
  database: env('ED_DATABASE'),
  stream: { name: env('ED_STREAM'), subjectPrefix: env('ED_SUBJECT_PREFIX') },
  logger: pino({ level: 'warn' }),
  onChangeStep: (step) => {
    if (`crash-after-${step}` === mode) process.kill(process.pid, 'SIGKILL')
  },
})
const stream = defineCounters(service).name(env('STREAM_ID'))
const op = await service.startOperation({ name: 'count' })
const events = (round: number) =>
  Array.from({ length: size }, (_, n) => ({
    event: CounterAdded,
    data: { by: 1, writer: 'killed', n: round * size + n },
  }))

if (mode.startsWith('crash-after-')) {
  process.stdout.write('ready\n')
  await op.appendToStream(stream, events(0), { expectedStreamPosition: 'no_stream' })
} else {
  let position = 0
  for (let round = 0; ; round++) {
    position = (
      await op.appendToStream(stream, events(round), { expectedStreamPosition: position })
    ).position
    if (round === 0) process.stdout.write('ready\n')
  }
}
