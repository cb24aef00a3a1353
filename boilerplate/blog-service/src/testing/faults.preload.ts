// Loaded with `node --import` into a blog process a test starts (faultEnv): every import
// of @event-driven/core, but the wrapper's own, gets faults.core.ts instead.
import { registerHooks } from 'node:module'

const wrapper = new URL('./faults.core.ts', import.meta.url).href

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === '@event-driven/core' && context.parentURL !== wrapper) {
      return { url: wrapper, shortCircuit: true }
    }
    return nextResolve(specifier, context)
  },
})
