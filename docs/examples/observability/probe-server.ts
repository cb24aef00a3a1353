import {
  configFromEnv,
  createLogger,
  createRuntime,
  probeSettingsFromEnv,
  startProbeServer,
} from '@event-driven/service-kit'

// What the block in the docs assumes: a process that runs one service.
const config = configFromEnv()
const logger = createLogger()
const runtime = await createRuntime('billing', config, logger)
await runtime.start({})

// #region
const settings = probeSettingsFromEnv() // PROBE_PORT unset: no probe server
const probe = settings
  ? await startProbeServer({ ...settings, checks: [() => runtime.health()] })
  : undefined

process.once('SIGTERM', () => {
  // runtime.stop() turns /readyz to 503 first, then drains; /healthz answers until close().
  void runtime.stop().then(() => probe?.close())
})
// #endregion
