import { describe, expect, it, vi } from 'vitest'
import type { EventStore } from '../store/event-store.ts'
import { captureLines } from '../testing/fake-delivery.ts'
import { recordEntry, type DeadLetter } from './dlq.ts'

const letter: DeadLetter = {
  entryId: 'entry1',
  eventId: 'e1',
  subject: 'Note.added',
  consumerGroup: 'notes.index',
  service: 'notes',
  handler: 'index',
  reason: 'failed 5 times; last error: boom',
  attempts: [{ attempt: 5, message: 'boom', at: new Date() }],
  trusted: true,
  stream: 'EVENTS',
  streamSequence: 7,
  body: new Uint8Array([1]),
  headerBlock: new Uint8Array(0),
}

/** The two inserts a DLQ entry takes: the entry, and its pending alert. */
function fakeStore(alertInsert: () => Promise<unknown> = async () => ({})) {
  const entries = vi.fn(async (_: unknown) => ({}))
  const alerts = vi.fn(alertInsert)
  const store = {
    dlq: { insertOne: entries },
    dlqAlerts: { insertOne: alerts },
    db: { collection: () => ({ insertOne: alerts }) },
  } as unknown as EventStore
  return { store, entries, alerts }
}

describe('recording a DLQ entry', () => {
  it('writes the entry, then its pending Slack alert', async () => {
    const { store, entries, alerts } = fakeStore()
    await recordEntry(store, letter, { alertsOn: true, logger: captureLines().logger })
    expect(entries.mock.calls[0]![0]).toMatchObject({ _id: 'entry1', status: 'open' })
    expect(alerts).toHaveBeenCalledWith(
      expect.objectContaining({ _id: 'entry1', consumerGroup: 'notes.index', error: 'boom' }),
    )
  })

  it('writes no alert with alerts off', async () => {
    const { store, alerts } = fakeStore()
    await recordEntry(store, letter, { alertsOn: false, logger: captureLines().logger })
    expect(alerts).not.toHaveBeenCalled()
  })

  it('logs an alert it cannot write: the entry is safe', async () => {
    const logs = captureLines()
    const { store } = fakeStore(() => Promise.reject(new Error('no primary')))
    await recordEntry(store, letter, { alertsOn: true, logger: logs.logger })
    expect(logs.lines).toMatchObject([
      { entryId: 'entry1', msg: 'could not record the Slack alert for this DLQ entry' },
    ])
  })
})
