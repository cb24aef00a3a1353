import type { Service } from '@event-driven/core'

// What the block in the docs assumes: a service, an entry's id, a progress display.
declare const service: Service
declare const id: string
declare function progress(done: number, total: number): void

// #region
const open = { consumerGroup: 'blogs.updateAuthorName', status: 'open' } as const
const { entries, next } = await service.dlq.list(open, { limit: 50 }) // newest first
// `next` is null on the last page; as `before`, it gives the next (older) page.
const older = next ? await service.dlq.list(open, { limit: 50, before: next }) : null
const entry = await service.dlq.get(id) // the entry and its cycles, or null
await service.dlq.redrive(id, 'ops@example.com') // → { ok: true, entry } or { ok: false, code, reason }
await service.dlq.discard(id, 'ops@example.com', 'invoice was cancelled')
await service.dlq.resolve(id, 'ops@example.com', 'fixed by hand')
await service.dlq.redriveWhere({ subject: 'Invoice.issued' }, 'ops', (done, total) =>
  progress(done, total),
)
await service.dlq.redriveWhere('all', 'ops') // every open entry: only when asked for by name
// #endregion
