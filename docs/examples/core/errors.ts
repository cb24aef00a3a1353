import type { ChangeInput, EntityState, Operation } from '@event-driven/core'
// #region
import { ErrorCodes, EventDrivenError } from '@event-driven/core'
// #endregion

// What the block in the docs assumes: a change decided as in state-change.ts, in a function that
// decides it (the block's `return`).
type Names = { firstName: string; lastName: string }
declare const op: Operation
declare const userState: EntityState<Names>
declare const change: ChangeInput<Names, { userId: string }>
declare function decideAgain(): Promise<void>

export async function rename(): Promise<void> {
  // #region

  try {
    await op.change(userState, change)
  } catch (error) {
    if (!(error instanceof EventDrivenError)) throw error
    if (error.code === ErrorCodes.ConcurrencyConflict) return decideAgain() // nothing was applied
    throw error
  }
  // #endregion
}
