/**
 * The deliveries of one consumer group in flight in this instance, by ledger key. JetStream may
 * deliver a message again while its first delivery still runs here (the consumer's leader moved
 * to another node of a cluster and did not see the keep-alives; an ack wait passed under load).
 * The later delivery waits for the earlier one to settle and then reads the ledger, so this
 * instance never runs a handler twice at once for one event.
 */
export class DeliveriesInFlight {
  readonly #settled = new Map<string, Promise<void>>()

  /**
   * Runs `deliver` once no earlier delivery of `key` is in flight here; `waited` says whether one
   * was (the ledger must then be read: it may have finished the event).
   */
  async one<T>(key: string, deliver: (waited: boolean) => Promise<T>): Promise<T> {
    const earlier = this.#settled.get(key)
    const run = earlier ? earlier.then(() => deliver(true)) : deliver(false)
    const settled = run.then(
      () => undefined,
      () => undefined,
    )
    this.#settled.set(key, settled)
    try {
      return await run
    } finally {
      if (this.#settled.get(key) === settled) this.#settled.delete(key)
    }
  }

  /** Keys with a delivery in flight here. */
  get size(): number {
    return this.#settled.size
  }
}
