import type { Logger } from 'pino'

/** A piece of a running service with a lifetime: the relay, a sweeper, the consumer groups. */
export interface Part {
  name: string
  start(): Promise<void> | void
  stop(): Promise<void> | void
}

/** A part that only has something to do when it stops (drains, flushes). */
export function onStop(name: string, stop: () => Promise<void> | void): Part {
  return { name, start() {}, stop }
}

/**
 * A part around a `start` that returns its own stop function (how the relay, the sweepers and
 * the movers are written).
 */
export function startedBy(
  name: string,
  start: () => Promise<() => Promise<void>> | (() => Promise<void>),
): Part {
  let stop: (() => Promise<void>) | undefined
  return {
    name,
    async start() {
      stop = await start()
    },
    async stop() {
      await stop?.()
    },
  }
}

/**
 * Starts `parts` in order and returns what stops them, in reverse: what started last stops
 * first, so a part never outlives what it uses. A part that fails to start stops those before it.
 */
export async function startParts(
  parts: readonly Part[],
  logger: Logger,
): Promise<() => Promise<void>> {
  const started: Part[] = []
  const stopAll = async () => {
    for (const part of started.reverse()) {
      try {
        await part.stop()
      } catch (error) {
        logger.error({ err: error, part: part.name }, 'a part of the service failed to stop')
      }
    }
    started.length = 0
  }
  for (const part of parts) {
    try {
      await part.start()
    } catch (error) {
      await stopAll()
      throw error
    }
    started.push(part)
  }
  return stopAll
}
