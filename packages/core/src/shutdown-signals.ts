/** Services that stop on SIGTERM/SIGINT: all of them drain, then the process exits. */
const running = new Set<{ stop(): Promise<void> }>()
let installed = false

async function stopAll(signal: NodeJS.Signals) {
  process.stderr.write(`received ${signal}: stopping ${running.size} service(s)\n`)
  const results = await Promise.allSettled([...running].map((service) => service.stop()))
  process.exit(results.some((r) => r.status === 'rejected') ? 1 : 0)
}

export function stopOnSignals(service: { stop(): Promise<void> }): () => void {
  running.add(service)
  if (!installed) {
    installed = true
    process.once('SIGTERM', (signal) => void stopAll(signal))
    process.once('SIGINT', (signal) => void stopAll(signal))
  }
  return () => running.delete(service)
}
