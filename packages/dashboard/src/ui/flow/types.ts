// The flow API's answers, as the core's route schemas type them (docs/dashboard.md).
export type { FlowGraphAnswer, SubjectChainAnswer } from '@event-driven/core/admin'
export type { FlowWindow } from '../api.ts'
