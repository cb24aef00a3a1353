import type { NatsConnection, Status } from '@nats-io/transport-node'

/** Where a NATS connection stands, as a probe reports it. */
export type NatsState = 'connected' | 'disconnected' | 'reconnecting' | 'draining' | 'closed'

/** Follows one connection's state from its status events, so a probe costs no round trip. */
export interface NatsStateWatch {
  state(): NatsState
  /** Stops following (the connection itself stays as it is). */
  stop(): void
}

/**
 * Watches `nc`'s status events (`disconnect`, `reconnecting`, `reconnect`) and reads
 * `isClosed()`/`isDraining()` on demand. Start it on an open connection: it begins `connected`.
 */
export function watchNatsState(nc: NatsConnection): NatsStateWatch {
  let current: 'connected' | 'disconnected' | 'reconnecting' = 'connected'
  const events = nc.status() as AsyncIterable<Status> & { stop?(): void }
  void (async () => {
    for await (const status of events) {
      if (status.type === 'disconnect') current = 'disconnected'
      // A reconnect attempt after a disconnect: still not connected.
      else if (status.type === 'reconnecting' && current !== 'connected') current = 'reconnecting'
      else if (status.type === 'reconnect') current = 'connected'
    }
  })().catch(() => undefined)
  return {
    state() {
      if (nc.isClosed()) return 'closed'
      if (nc.isDraining()) return 'draining'
      return current
    },
    stop: () => events.stop?.(),
  }
}
