import type { DlqActionResult, DlqRefusalCode } from '../dlq/manage.ts'

/** What a route answers: the status and the JSON body. */
export interface Answer {
  status: number
  body: unknown
}

/** The status of each DLQ action refusal: the code decides, never the reason's text. */
export const dlqRefusalStatus = {
  'not-found': 404,
  'not-open': 409,
  'lost-race': 409,
  untrusted: 409,
  'format-unsupported': 409,
} as const satisfies Record<DlqRefusalCode, number>

/** A DLQ action's answer: 200 with the entry as it is now, or the refusal's status and reason. */
export function dlqActionAnswer(result: DlqActionResult): Answer {
  if (result.ok) return { status: 200, body: { entry: result.entry } }
  return { status: dlqRefusalStatus[result.code], body: { error: result.reason } }
}
