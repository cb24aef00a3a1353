// @event-driven/core as a test's blog process sees it (faults.preload.ts): the same, except that
// createService carries out the faults the test asked for.
import * as core from '@event-driven/core'
import { existsSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { faultsFromEnv, isFailing, type FailingHandler, type HeldHandler } from './faults.ts'

export * from '@event-driven/core'

const faults = faultsFromEnv()

export async function createService(options: core.ServiceOptions): Promise<core.Service> {
  const killAt = faults.killAtChangeStep
  const service = await core.createService(
    killAt
      ? {
          ...options,
          onChangeStep: (step) => {
            if (step !== killAt) return
            options.logger?.warn({ step }, 'test fault: killing this process after this step')
            process.kill(process.pid, 'SIGKILL')
          },
        }
      : options,
  )
  if (faults.failingHandler) failHandler(service, options.name, faults.failingHandler)
  if (faults.heldHandler) holdHandler(service, options.name, faults.heldHandler)
  return service
}

/** Wraps the one consumer group's handler so that each run first waits while the file exists. */
function holdHandler(service: core.Service, name: string, fault: HeldHandler): void {
  wrapHandler(service, name, fault.consumerGroup, (handler) => async (event, ctx) => {
    if (existsSync(fault.whileFileExists)) writeFileSync(fault.heldFile, event.id)
    while (existsSync(fault.whileFileExists)) await sleep(20)
    return handler(event, ctx)
  })
}

/** Wraps the one consumer group's handler so that it throws while the fault holds. */
function failHandler(service: core.Service, name: string, fault: FailingHandler): void {
  let runs = 0
  wrapHandler(service, name, fault.consumerGroup, (handler) => async (event, ctx) => {
    if (isFailing(fault, ++runs)) throw new Error(fault.message)
    return handler(event, ctx)
  })
}

/** Registers `consumerGroup`'s handler wrapped, every other handler as it is. */
function wrapHandler(
  service: core.Service,
  name: string,
  consumerGroup: string,
  wrap: (handler: core.EventHandler<unknown>) => core.EventHandler<unknown>,
): void {
  const on = service.on.bind(service)
  service.on = <Data>(
    definition: core.EventDefinition<string, Data>,
    handlerOptions: core.HandlerOptions,
    handler: core.EventHandler<Data>,
  ) => {
    if (`${name}.${handlerOptions.handler}` !== consumerGroup)
      return on(definition, handlerOptions, handler)
    return on(definition, handlerOptions, wrap(handler as core.EventHandler<unknown>))
  }
}
