// Services added with `event-driven new`: main.ts starts them beside users, blogs and comments,
// and the gateway serves their schema pieces. The generator adds each import and entry.
import type { ServiceModule } from '@event-driven/service-kit'

export const addedServices: ServiceModule[] = []
