import { ErrorCodes, type Operation, type Service } from '@event-driven/core'
import type { Logger } from 'pino'

/**
 * A timer that fires once per tick across every instance of a service. Ticks are wall-clock
 * multiples of the interval (tick n starts at n × intervalMs since the Unix epoch), so every
 * instance wakes at the same moments without talking to the others. Each one then records the
 * tick's operation under one id, `timer.<service>.<name>.<n>`: the operation record is the claim.
 * Its insert is unique on `_id`, so exactly one instance records it and runs the tick; the others
 * are refused (`operation-id-taken`) and do nothing. The claim and the chain's root are one write.
 *
 * At most once per tick: a tick no instance was running for (all stopped, or the claim's write
 * failed) is not run later.
 */

/** A timer's settings. */
export interface TimerOptions {
  /**
   * Names the timer's operations (`name`) and their ids: camelCase letters and digits, unique in
   * the service, e.g. `blogDigest`.
   */
  name: string
  /** Time between ticks, in ms: at least 100. Ticks are multiples of it since the Unix epoch. */
  intervalMs: number
  /**
   * How long a tick's operation may stay `started` before the sweeper ends it as abandoned (its
   * instance died mid-tick). Default: the service's `operations.deadlineMs`.
   */
  deadlineMs?: number
}

/** The tick an operation runs for. */
export interface TimerTick {
  /** floor(time / intervalMs): the same number on every instance. */
  number: number
  /** When the tick starts: number × intervalMs. */
  startsAt: Date
  /** When the tick before it started: what "since the last tick" counts from. */
  previousAt: Date
}

/** A tick's work: runs inside the tick's operation, which completes, or fails with its error. */
export type TimerTask = (op: Operation, tick: TimerTick) => Promise<void>

/** A running timer. */
export interface Timer {
  readonly name: string
  /** Stops waking up, and waits for a tick this instance is running. */
  stop(): Promise<void>
}

/** What a timer needs of its service. */
export interface TimerHost {
  /** The service's name: part of each tick's operation id. */
  service: string
  core: Pick<Service, 'startOperation'>
  logger: Logger
}

const timerNamePattern = /^[a-z][a-zA-Z0-9]{0,59}$/
/** The longest delay `setTimeout` keeps (about 24.8 days). */
const maxIntervalMs = 2 ** 31 - 1

/** The operation id of a timer's tick: what every instance tries to record. */
export function timerOperationId(service: string, name: string, tick: number): string {
  return `timer.${service}.${name}.${tick}`
}

/** Throws for a name or an interval a timer cannot have (see `TimerOptions`). */
export function checkTimerOptions({ name, intervalMs }: TimerOptions): void {
  if (!timerNamePattern.test(name))
    throw new Error(`timer name ${JSON.stringify(name)} must be camelCase letters and digits`)
  if (!Number.isInteger(intervalMs) || intervalMs < 100 || intervalMs > maxIntervalMs)
    throw new Error(`timer ${name}: intervalMs must be a whole number from 100 to ${maxIntervalMs}`)
}

/** Starts a timer of `host`'s service; see the module comment for how one instance runs a tick. */
export function startTimer(host: TimerHost, options: TimerOptions, task: TimerTask): Timer {
  checkTimerOptions(options)
  const { name, intervalMs } = options
  const logger = host.logger.child({ timer: name })
  const running = new Set<Promise<void>>()
  let stopped = false
  let wake: NodeJS.Timeout | undefined

  const runTick = async (number: number) => {
    const tick: TimerTick = {
      number,
      startsAt: new Date(number * intervalMs),
      previousAt: new Date((number - 1) * intervalMs),
    }
    let op: Operation
    try {
      op = await host.core.startOperation({
        id: timerOperationId(host.service, name, number),
        name,
        input: { tick: number, startsAt: tick.startsAt.toISOString() },
        actor: `timer:${name}`,
        ...(options.deadlineMs ? { deadlineMs: options.deadlineMs } : {}),
      })
    } catch (error) {
      if ((error as { code?: unknown }).code === ErrorCodes.OperationIdTaken) return // another instance's
      logger.warn({ err: error, tick: number }, 'could not record the tick: no instance runs it')
      return
    }
    try {
      await task(op, tick)
      await op.complete()
    } catch (error) {
      logger.error({ err: error, tick: number, operationId: op.id }, 'the tick failed')
      await op.fail(error instanceof Error ? error : String(error))
    }
  }

  // Every tick from the next one on; a wake-up late past a whole tick skips to the current one.
  const scheduleAfter = (tick: number) => {
    if (stopped) return
    const next = Math.max(tick + 1, Math.floor(Date.now() / intervalMs) + 1)
    wake = setTimeout(
      () => {
        scheduleAfter(next)
        const run = runTick(next).catch((error: unknown) =>
          logger.error({ err: error, tick: next }, 'the tick could not be ended'),
        )
        running.add(run)
        void run.finally(() => running.delete(run))
      },
      Math.max(0, next * intervalMs - Date.now()),
    )
  }
  scheduleAfter(Math.floor(Date.now() / intervalMs))

  return {
    name,
    async stop() {
      stopped = true
      clearTimeout(wake)
      await Promise.all(running)
    },
  }
}
