// @event-driven/core as a test's blog process sees it (faults.preload.ts): the same, except that
// createService carries out the faults the test asked for.
import * as core from '@event-driven/core'
import { faultsFromEnv, isFailing, type FailingHandler } from './faults.ts'

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
  return service
}

/** Wraps the one consumer group's handler so that it throws while the fault holds. */
function failHandler(service: core.Service, name: string, fault: FailingHandler): void {
  const on = service.on.bind(service)
  service.on = <Data>(
    definition: core.EventDefinition<string, Data>,
    handlerOptions: core.HandlerOptions,
    handler: core.EventHandler<Data>,
  ) => {
    if (`${name}.${handlerOptions.handler}` !== fault.consumerGroup) {
      return on(definition, handlerOptions, handler)
    }
    return on(definition, handlerOptions, async (event, ctx) => {
      if (isFailing(fault)) throw new Error(fault.message)
      return handler(event, ctx)
    })
  }
}
