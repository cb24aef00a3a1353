import { operationListIndexes } from './admin/views.ts'
import { archiverIndexes } from './archive/archiver.ts'
import { dlqIndexes } from './dlq/manage.ts'
import { flowIndexes } from './observe/flow/graph.ts'
import { relayIndexes } from './publish/relay.ts'
import { settleIndexes } from './state/settle.ts'
import { streamIndexes } from './event-sourcing/read.ts'
import type { IndexDeclaration } from './store/indexes.ts'
import { chainIndexes } from './store/operation-chain.ts'

/**
 * Every index the core's reads need on MongoDB, each declared beside its query. The hot path
 * needs none: it stays on `_id` and the small outbox.
 */
export const productIndexes: readonly IndexDeclaration[] = [
  ...relayIndexes,
  ...archiverIndexes,
  ...settleIndexes,
  ...streamIndexes,
  ...chainIndexes,
  ...operationListIndexes,
  ...dlqIndexes,
  ...flowIndexes,
]
