import type { Service } from '@event-driven/core'
import { expect } from 'vitest'

// What the block in the docs assumes: a service, the id of the event that should fail.
declare const service: Service
declare const eventId: string

// #region
import { eventually } from '@event-driven/testing'

const entry = await eventually(
  async () => {
    const { entries } = await service.dlq.list({ eventId, consumerGroup: 'billing.charge' })
    expect(entries).toHaveLength(1)
    return entries[0]
  },
  { timeoutMs: 10_000 },
)
// #endregion
