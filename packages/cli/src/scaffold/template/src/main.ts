// Runs the order-history service alone, with a gateway of its own: `pnpm start`.
// In the event-driven monorepo, the blog service's main.ts runs it beside the others.
import { configFromEnv, createLogger, startGateway } from '@event-driven/service-kit'
import { orderHistory } from './service.ts'

// Text in a terminal or in development, JSON lines otherwise; LOG_LEVEL sets the level.
const logger = createLogger()
const config = configFromEnv()
const service = await orderHistory.start(config, logger)
const gateway = await startGateway(config, logger, [orderHistory])
process.stdout.write(`GraphQL: ${gateway.url}\n`)

let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  void gateway
    .stop()
    .then(() => service.stop())
    .then(() => process.exit(0))
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
