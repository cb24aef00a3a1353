// A consumer instance for the backlog and scaling runs: a framework service whose handler
// optionally burns CPU. Prints `ready`, starts pulling on `go` (stdin), and on `stop` drains,
// then prints one JSON line: {"handled": n, "maxRssMB": m}.
// Env: NATS_URL, MONGODB_URL, BENCH_DATABASE, BENCH_STREAM, BENCH_SUBJECT_PREFIX,
//      CPU_MS (default 0), CONCURRENCY (default 64).
import { createInterface } from 'node:readline'
import { createService } from '@event-driven/core'
import { pino } from 'pino'
import { BenchEvent } from './events.ts'

const env = (name: string, fallback?: string) => {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}
const cpuMs = Number(env('CPU_MS', '0'))

const service = await createService({
  name: 'bench',
  nats: env('NATS_URL'),
  mongodb: env('MONGODB_URL'),
  database: env('BENCH_DATABASE'),
  stream: { name: env('BENCH_STREAM'), subjectPrefix: env('BENCH_SUBJECT_PREFIX') },
  logger: pino({ level: 'warn' }),
  stopOnSignals: false,
})
let handled = 0
service.on(
  BenchEvent,
  { handler: 'drain', concurrency: Number(env('CONCURRENCY', '64')) },
  async () => {
    if (cpuMs > 0) {
      const until = performance.now() + cpuMs
      while (performance.now() < until); // CPU-bound work, on purpose
    }
    handled += 1
  },
)
process.stdout.write('ready\n')

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'go') await service.start()
  if (line === 'stop') break
}
await service.stop()
const mb = (bytes: number) => Math.round(bytes / 1_048_576)
const memory = process.memoryUsage()
const report = {
  handled,
  maxRssMB: mb(process.resourceUsage().maxRSS * 1024),
  heapUsedMB: mb(memory.heapUsed),
  heapTotalMB: mb(memory.heapTotal),
  externalMB: mb(memory.external),
}
process.stdout.write(`${JSON.stringify(report)}\n`)
process.exit(0)
