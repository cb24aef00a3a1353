import type { AttemptError } from '../store/event-store.ts'
import type { DeadLetter } from './dlq.ts'
import type { Delivery } from './delivery.ts'
import { attemptError } from './failures.ts'

/**
 * What a delivery step decides. `deadLetter` asks for the message to be given up; the DLQ write
 * (`dead-letter.ts`) turns it into where the letter went, and `settle()` tells JetStream.
 */
export type Outcome = Ack | Retry | GiveUp

/** Done: handled now, or processed before. `note` is the debug line that says which. */
export interface Ack {
  kind: 'ack'
  note: string
}

/** Delivered again by JetStream after `delayMs` (a `nak` with a delay). */
export interface Retry {
  kind: 'retry'
  delayMs: number
}

export interface GiveUp {
  kind: 'deadLetter'
  reason: string
  attempts: AttemptError[]
  /** False for a message the framework did not sign: its entry can never be redriven. */
  trusted: boolean
  /** Set once the delivery was checked against the ledger: a parked letter is checked again. */
  ledgerKey?: string
}

/** A step that lets the delivery go on to the next step, with what it learned. */
export interface Next {
  kind: 'next'
  delivery: Delivery
}

export type StepResult = Outcome | Next

/**
 * How a message is settled with JetStream: a step's outcome, a dead letter once written
 * somewhere (the entry, or the parked stream: then `term`), or left unacknowledged when neither
 * took it (`nak`: the next delivery gives it up again).
 */
export type Settlement = Ack | Retry | Recorded | Parked | Unrecorded

export interface Recorded {
  kind: 'deadLettered'
  letter: DeadLetter
}

export interface Parked {
  kind: 'parked'
  letter: DeadLetter
  /** Why MongoDB did not take the entry. */
  cause: unknown
}

export interface Unrecorded {
  kind: 'unrecorded'
  letter: DeadLetter
  cause: unknown
  parkError: unknown
  delayMs: number
}

export const ack = (note: string): Ack => ({ kind: 'ack', note })

/** The note of an ack after the handler finished (metrics tell it from a duplicate's). */
export const handledNote = 'handled'

export const retry = (delayMs: number): Retry => ({ kind: 'retry', delayMs })

export const deadLetter = (
  reason: string,
  attempts: AttemptError[],
  extra: { trusted?: boolean; ledgerKey?: string } = {},
): GiveUp => ({
  kind: 'deadLetter',
  reason,
  attempts,
  trusted: extra.trusted ?? true,
  ...(extra.ledgerKey === undefined ? {} : { ledgerKey: extra.ledgerKey }),
})

export const next = (delivery: Delivery): Next => ({ kind: 'next', delivery })

/** Input no retry can fix: given up on this delivery, the reason as its one attempt's error. */
export function refuse(delivery: Delivery, reason: string, trusted: boolean): GiveUp {
  return deadLetter(reason, [attemptError(delivery.attempt, new Error(reason), delivery.msg.seq)], {
    trusted,
  })
}

/** Out of attempts: the reason names how many and the last error. */
export function gaveUp(attempts: AttemptError[], ledgerKey: string): GiveUp {
  const last = attempts.at(-1)
  return deadLetter(
    `failed ${attempts.length} times; last error: ${last?.message ?? 'unknown'}`,
    attempts,
    { ledgerKey },
  )
}
