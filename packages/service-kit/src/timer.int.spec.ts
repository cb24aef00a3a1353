import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { MongoClient } from 'mongodb'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ServiceConfig } from './config.ts'
import { testServiceConfig } from './testing/service-config.ts'
import { createRuntime, type ServiceRuntime } from './runtime.ts'
import { timerOperationId } from './timer.ts'

// A timer runs each tick once across every instance of a service: all of them wake up, one
// records the tick's operation (the claim), and the tick's work runs as that operation.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'timers')
const mongo = await new MongoClient(servers.mongodbUrl).connect()
const operations = mongo.db(`${ns.database}_event_driven`).collection<{
  _id: string
  name: string
  actor: string
  status: string
  error?: string
  input: { tick: number }
}>('operations')

let config: ServiceConfig
const logger = pino({ level: 'silent' })
const started: ServiceRuntime[] = []
beforeAll(() => {
  config = testServiceConfig(servers, ns)
})
afterAll(async () => {
  await Promise.all(started.map((runtime) => runtime.stop()))
  await mongo.close()
  await ns.cleanup()
})

/** An instance of the `clock` service: its own connections, as a second process would have. */
async function instance(): Promise<ServiceRuntime> {
  const runtime = await createRuntime('clock', config, logger)
  started.push(runtime)
  return runtime
}

/** Counts each instance's attempts to record a tick: every instance tries every tick. */
function countAttempts(runtime: ServiceRuntime, attempts: Map<string, number>) {
  const startOperation = runtime.core.startOperation.bind(runtime.core)
  runtime.core.startOperation = (input) => {
    if (input.id) attempts.set(input.id, (attempts.get(input.id) ?? 0) + 1)
    return startOperation(input)
  }
}

describe('a timer across instances', () => {
  it('two instances, 300 ms ticks: both wake for the ticks, one runs each; each tick is one operation', async () => {
    const intervalMs = 300
    const runs: { instance: number; tick: number; operationId: string }[] = []
    const attempts = new Map<string, number>()
    const runtimes = [await instance(), await instance()]
    for (const [i, runtime] of runtimes.entries()) {
      countAttempts(runtime, attempts)
      runtime.every({ name: 'count', intervalMs }, async (op, tick) => {
        runs.push({ instance: i, tick: tick.number, operationId: op.id })
        expect(tick.startsAt.getTime()).toBe(tick.number * intervalMs)
      })
      await runtime.start({})
    }
    await eventually(() => expect(runs.length).toBeGreaterThanOrEqual(6), {
      timeoutMs: 10_000,
      intervalMs: 50,
    })
    await Promise.all(runtimes.map((runtime) => runtime.stop()))

    const ticks = runs.map((run) => run.tick)
    expect(new Set(ticks).size).toBe(ticks.length) // no tick ran twice
    const first = Math.min(...ticks)
    // Both instances ran throughout: no tick in between was left out.
    expect([...ticks].sort((a, b) => a - b)).toEqual(
      Array.from({ length: ticks.length }, (_, i) => first + i),
    )
    // Each tick was tried by both instances, or by one: an instance that wakes later than a whole
    // tick (a loaded machine) skips to the current one, by design; the other still ran it.
    for (const run of runs) {
      expect(run.operationId).toBe(timerOperationId('clock', 'count', run.tick))
      expect([1, 2]).toContain(attempts.get(run.operationId))
    }
    const tries = runs.map((run) => attempts.get(run.operationId)!)
    expect(tries.filter((n) => n === 2).length).toBeGreaterThan(0) // both contended for ticks
    const recorded = await operations.find({ actor: 'timer:count' }).toArray()
    expect(recorded.map((op) => op.input.tick).sort((a, b) => a - b)).toEqual(
      [...ticks].sort((a, b) => a - b),
    )
    expect(recorded.every((op) => op.status === 'completed' && op.name === 'count')).toBe(true)
  })

  it('stop() waits for a tick that is running, which completes before the service stops', async () => {
    const runtime = await instance()
    let release: () => void = () => {}
    let running: string | undefined
    let tickDone = false
    runtime.every({ name: 'slowTick', intervalMs: 200 }, async (op) => {
      if (running) return // only the first tick waits
      running = op.id
      await new Promise<void>((resolve) => (release = resolve))
      tickDone = true
    })
    // What the service saw when it was told to stop: had the tick finished?
    let tickDoneAtCoreStop: boolean | undefined
    const stopCore = runtime.core.stop.bind(runtime.core)
    runtime.core.stop = () => {
      tickDoneAtCoreStop = tickDone
      return stopCore()
    }
    await runtime.start({})
    await eventually(() => expect(running).toBeDefined(), { timeoutMs: 5_000, intervalMs: 20 })
    let stopped = false
    const stopping = runtime.stop().then(() => (stopped = true))
    // A round trip to the database later, the tick still holds stop() back.
    expect(await operations.findOne({ _id: running! })).toMatchObject({ status: 'started' })
    expect(stopped).toBe(false)
    release()
    await stopping
    expect(tickDoneAtCoreStop).toBe(true)
    expect(await operations.findOne({ _id: running! })).toMatchObject({ status: 'completed' })
  })

  it('a failing tick is recorded as a failed operation with its error; the next tick still runs', async () => {
    const runtime = await instance()
    const ran: number[] = []
    runtime.every({ name: 'flaky', intervalMs: 200 }, async (_op, tick) => {
      ran.push(tick.number)
      if (ran.length === 1) throw new Error(`the report store refused tick ${tick.number}`)
    })
    await runtime.start({})
    await eventually(() => expect(ran.length).toBeGreaterThanOrEqual(2), {
      timeoutMs: 5_000,
      intervalMs: 20,
    })
    await runtime.stop()
    const [failed, next] = ran
    expect(
      await operations.findOne({ _id: timerOperationId('clock', 'flaky', failed!) }),
    ).toMatchObject({
      status: 'failed',
      actor: 'timer:flaky',
      error: `the report store refused tick ${failed}`,
    })
    expect(
      await operations.findOne({ _id: timerOperationId('clock', 'flaky', next!) }),
    ).toMatchObject({
      status: 'completed',
    })
  })
})
