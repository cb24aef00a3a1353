import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from './event-definition.ts'
import { newId } from './ids.ts'
import { operationEnds } from './operation.ts'
import type { Service } from './service.ts'
import { createTestService } from './testing/test-service.ts'

// Every operation ends: one left `started` by a process that died is ended as abandoned past its
// deadline, by any instance; the first end (completion, failure or abandonment) is the one kept.
const servers = await getTestServers()
const ns = createTestNamespace(servers, 'operations end')

const OrderPlaced = defineEvent({
  subject: 'Order.placed',
  version: 1,
  schema: z.object({ orderId: z.string() }),
})

let sweeping: Service
beforeAll(async () => {
  sweeping = await createTestService(ns, servers, 'orders', {
    operations: { sweepIntervalMs: 100 },
  })
  await sweeping.start()
})
afterAll(async () => {
  await sweeping.stop()
  await ns.cleanup()
})

const operation = (id: string) => sweeping.store.operations.findOne({ _id: id })

describe('operations that are never ended', () => {
  it('one whose process stopped is ended as abandoned past its deadline, its chain kept', async () => {
    // Another instance records the command and its event, then stops before ending it.
    const dying = await createTestService(ns, servers, 'orders')
    const op = await dying.startOperation({ name: 'orderPlace', deadlineMs: 300 })
    const eventId = await op.publish(OrderPlaced, { orderId: 'o1' })
    await dying.stop()

    const ended = await eventually(async () => {
      const found = await operation(op.id)
      expect(found?.status).toBe('failed')
      return found!
    })
    expect(ended.error).toMatch(/^abandoned: not ended within its deadline of 0 s/)
    expect(ended.endedAt!.getTime()).toBeGreaterThanOrEqual(ended.deadlineAt!.getTime())
    expect(await operationEnds(sweeping.store).findOne({ _id: op.id })).toMatchObject({
      status: 'failed',
      abandoned: true,
    })
    await eventually(async () =>
      expect(await sweeping.store.events.countDocuments({ _id: eventId })).toBe(1),
    )
  })

  it('a late completion leaves the abandoned end as it is; one in time is never abandoned', async () => {
    const late = await sweeping.startOperation({ name: 'orderPlace', deadlineMs: 200 })
    const inTime = await sweeping.startOperation({ name: 'orderPlace' }) // the default: 5 min
    await eventually(async () => expect((await operation(late.id))?.status).toBe('failed'))
    expect(await late.complete()).toBe(false)
    expect(await operation(late.id)).toMatchObject({ status: 'failed', error: /^abandoned/ })

    expect(await inTime.complete()).toBe(true)
    expect(await inTime.fail('too late to fail')).toBe(false)
    expect(await operation(inTime.id)).toMatchObject({ status: 'completed' })
    expect((await operation(inTime.id))?.error).toBeUndefined()
  })

  it('completions racing the sweeper: each operation ends once, as its one claim says', async () => {
    const ops = await Promise.all(
      Array.from({ length: 40 }, () =>
        sweeping.startOperation({ name: 'orderPlace', deadlineMs: 0 }),
      ),
    )
    const completed = await Promise.all(ops.map((op) => op.complete()))
    await eventually(async () =>
      expect(
        await sweeping.store.operations.countDocuments({
          _id: { $in: ops.map((o) => o.id) },
          status: 'started',
        }),
      ).toBe(0),
    )
    for (const [i, op] of ops.entries()) {
      const claim = await operationEnds(sweeping.store).findOne({ _id: op.id })
      const stored = await operation(op.id)
      expect(stored?.status).toBe(claim?.status)
      expect(stored?.status).toBe(completed[i] ? 'completed' : 'failed')
      expect(Boolean(claim?.abandoned)).toBe(!completed[i])
    }
  })

  it('an id minted by the caller is used; a malformed or reused one is refused, recording nothing', async () => {
    const id = newId()
    const op = await sweeping.startOperation({ name: 'orderPlace', id })
    expect(op.id).toBe(id)
    await expect(sweeping.startOperation({ name: 'orderPlace', id })).rejects.toMatchObject({
      name: 'OperationIdError',
      message: `operation ${id} is recorded already: an id names one command`,
    })
    const before = await sweeping.store.operations.countDocuments()
    await expect(
      sweeping.startOperation({ name: 'orderPlace', id: 'a b\u0000' }),
    ).rejects.toMatchObject({ name: 'OperationIdError' })
    expect(await sweeping.store.operations.countDocuments()).toBe(before)
    await op.complete()
  })
})
