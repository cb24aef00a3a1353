// @event-driven/core as a test's blog process sees it (failing-handler.preload.ts): the same,
// except that createService wraps the failing consumer group's handler.
import * as core from '@event-driven/core'
import { failingHandlerFromEnv, isFailing } from './failing-handler.ts'

export * from '@event-driven/core'

const fault = failingHandlerFromEnv()

export async function createService(options: core.ServiceOptions): Promise<core.Service> {
  const service = await core.createService(options)
  const on = service.on.bind(service)
  service.on = <Data>(
    definition: core.EventDefinition<string, Data>,
    handlerOptions: core.HandlerOptions,
    handler: core.EventHandler<Data>,
  ) => {
    if (`${options.name}.${handlerOptions.handler}` !== fault.consumerGroup) {
      return on(definition, handlerOptions, handler)
    }
    return on(definition, handlerOptions, async (event, ctx) => {
      if (isFailing(fault)) throw new Error(fault.message)
      return handler(event, ctx)
    })
  }
  return service
}
