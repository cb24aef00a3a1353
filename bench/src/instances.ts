import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { join } from 'node:path'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, headers } from '@nats-io/transport-node'
import { eventStore, signedPublisher } from '@event-driven/core/admin'
import { MongoClient } from 'mongodb'
import { BenchEvent, benchData } from './events.ts'
import { until, withWindow } from './measure.ts'

export interface Names {
  database: string
  stream: string
  subjectPrefix: string
}

/** Fills the stream with `count` events as the framework publishes them, fast (raw, pipelined). */
export async function fillBacklog(
  natsUrl: string,
  mongodbUrl: string,
  names: Names,
  count: number,
  bytes: number,
): Promise<void> {
  const nc = await connect({ servers: natsUrl })
  const mongo = await new MongoClient(mongodbUrl).connect()
  try {
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: names.stream, subjects: [`${names.subjectPrefix}.>`] })
    const js = jetstream(nc)
    // Signed with the system's key, as the framework signs: consumer groups refuse anything else.
    const publish = await signedPublisher(eventStore(mongo.db(names.database)), js)
    await withWindow(count, 256, async (n) => {
      const h = headers()
      const id = `backlog-${n}`
      h.set('Event-Id', id)
      h.set('Event-Version', '1')
      h.set('Operation-Id', 'backlog')
      h.set('Parent-Id', 'backlog')
      h.set('Event-Created-At', new Date().toISOString())
      await publish(
        `${names.subjectPrefix}.${BenchEvent.subject}`,
        JSON.stringify(benchData(n, bytes)),
        {
          msgID: id,
          headers: h,
        },
      )
    })
  } finally {
    await nc.close()
    await mongo.close()
  }
}

/** What a consumer instance reports when it stops. */
export interface InstanceReport {
  handled: number
  maxRssMB: number
  heapUsedMB: number
  heapTotalMB: number
  externalMB: number
}

export interface Instance {
  child: ChildProcessWithoutNullStreams
  ready: Promise<void>
  /** Sends `stop`; resolves with the instance's report. */
  stop(): Promise<InstanceReport>
}

export function startInstance(
  urls: { natsUrl: string; mongodbUrl: string },
  names: Names,
  cpuMs: number,
): Instance {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'consumer-process.ts')], {
    env: {
      ...process.env,
      NATS_URL: urls.natsUrl,
      MONGODB_URL: urls.mongodbUrl,
      BENCH_DATABASE: names.database,
      BENCH_STREAM: names.stream,
      BENCH_SUBJECT_PREFIX: names.subjectPrefix,
      CPU_MS: String(cpuMs),
    },
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const ready = until(
    () => output.includes('ready\n') || child.exitCode !== null,
    60_000,
    'a consumer instance',
  ).then(() => {
    if (!output.includes('ready\n')) throw new Error(`consumer instance exited:\n${output}`)
  })
  return {
    child,
    ready,
    async stop() {
      child.stdin.write('stop\n')
      await exited
      const line = output.trim().split('\n').at(-1) ?? ''
      try {
        return JSON.parse(line) as InstanceReport
      } catch {
        throw new Error(`consumer instance did not report:\n${output}`)
      }
    },
  }
}

/** Starts the instances together and returns the seconds until their durable has nothing left. */
export async function drain(
  natsUrl: string,
  names: Names,
  instances: Instance[],
  count: number,
): Promise<number> {
  await Promise.all(instances.map((i) => i.ready))
  const nc = await connect({ servers: natsUrl })
  try {
    const jsm = await jetstreamManager(nc)
    const started = performance.now()
    for (const instance of instances) instance.child.stdin.write('go\n')
    await until(
      async () => {
        const info = await jsm.consumers.info(names.stream, 'bench_drain').catch(() => undefined)
        return (
          info !== undefined &&
          info.delivered.stream_seq >= count &&
          info.num_pending === 0 &&
          info.num_ack_pending === 0
        )
      },
      600_000,
      `${instances.length} instance(s) to drain ${count} events`,
    )
    return (performance.now() - started) / 1000
  } finally {
    await nc.close()
  }
}
