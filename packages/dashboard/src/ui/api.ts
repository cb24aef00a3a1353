// A typed client for the admin API. The session cookie (HttpOnly) goes with every call.
import type {
  ActionAnswerBody,
  BulkRedriveAnswerBody,
  ChainAnswer,
  ConsumerGroupSummaryAnswer,
  DlqEntryAnswer,
  DlqEntryDetailAnswer,
  DlqPageAnswer,
  FlowGraphAnswer,
  OperationPageAnswer,
  SessionAnswer,
  SubjectSummaryAnswer,
} from '@event-driven/core/admin'

export class Unauthorized extends Error {}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, {
    ...init,
    headers: { 'content-type': 'application/json', ...init.headers },
    credentials: 'same-origin',
  })
  if (response.status === 401) throw new Unauthorized('sign in')
  const body = (await response.json()) as T & { error?: string }
  if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`)
  return body
}

// The shapes are the route schemas' (the core's admin/schemas.ts), which type the core's own
// answers and generate its OpenAPI document: a changed answer fails this package's type check.
export type OperationPage = OperationPageAnswer
export type OperationRow = OperationPage['operations'][number]
export type Chain = ChainAnswer
export type ChainEvent = Chain['events'][number]
export type SubjectRow = SubjectSummaryAnswer
export type GroupRow = ConsumerGroupSummaryAnswer
/** A DLQ entry: `payload` is its UTF-8 text or null, `payloadBase64` the exact bytes. */
export type DlqEntry = DlqEntryAnswer
/** An entry with every failure cycle of its event in its consumer group. */
export type DlqEntryDetail = DlqEntryDetailAnswer
export type DlqCycle = DlqEntryDetail['cycles'][number]
export type DlqActionName = 'redrive' | 'discard' | 'resolve'

// The flow of each subject: the graph for a window, a subject's chain walked from it (node ids are
// `service:`, `subject:` or `group:` and the name; step times in ms, null when none was counted).
export type FlowGraph = FlowGraphAnswer
export type FlowNode = FlowGraph['nodes'][number]
export type FlowEdge = FlowGraph['edges'][number]
export type FlowWindow = FlowGraph['window']
/** The windows the API takes, shortest first; `1h` when none is given. */
export const flowWindows: readonly FlowWindow[] = ['15m', '1h', '6h', '24h']

const q = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(
    Object.entries(params).flatMap(([k, v]) =>
      v === undefined || v === '' ? [] : [[k, String(v)]],
    ),
  ).toString()

/** Who is signed in: a `read` key may look at everything but act on nothing. */
export type Who = SessionAnswer

/** What a bulk redrive selects: open entries by a filter, or `{ all: true }` for every one. */
export type BulkRedriveSelection =
  { service?: string; consumerGroup?: string; subject?: string; eventId?: string } | { all: true }

// Reads take the query's AbortSignal: a superseded or unmounted query cancels its request.
export const api = {
  session: (signal?: AbortSignal) => call<Who>('/api/session', { signal }),
  signIn: (apiKey: string) =>
    call<Who>('/api/session', { method: 'POST', body: JSON.stringify({ apiKey }) }),
  signOut: () => call<unknown>('/api/session', { method: 'DELETE' }),
  operations: (
    params: { search?: string; before?: string; limit?: number },
    signal?: AbortSignal,
  ) => call<OperationPage>(`/api/operations?${q(params)}`, { signal }),
  chain: (id: string, signal?: AbortSignal) =>
    call<Chain>(`/api/operations/${encodeURIComponent(id)}/chain`, { signal }),
  subjects: (signal?: AbortSignal) => call<{ subjects: SubjectRow[] }>('/api/subjects', { signal }),
  groups: (signal?: AbortSignal) =>
    call<{ consumerGroups: GroupRow[] }>('/api/consumer-groups', { signal }),
  dlq: (
    params: {
      status?: string
      consumerGroup?: string
      subject?: string
      eventId?: string
      before?: string
      limit?: number
    },
    signal?: AbortSignal,
  ) => call<DlqPageAnswer>(`/api/dlq?${q(params)}`, { signal }),
  dlqEntry: (id: string, signal?: AbortSignal) =>
    call<DlqEntryDetail>(`/api/dlq/${encodeURIComponent(id)}`, { signal }),
  dlqAct: (id: string, action: DlqActionName, text?: string) =>
    call<ActionAnswerBody>(`/api/dlq/${encodeURIComponent(id)}/${action}`, {
      method: 'POST',
      // Each action takes only its own field: the API refuses any other.
      body: JSON.stringify(
        action === 'discard' ? { reason: text } : action === 'resolve' ? { note: text } : {},
      ),
    }),
  flow: (window: FlowWindow, signal?: AbortSignal) =>
    call<FlowGraph>(`/api/flow?${q({ window })}`, { signal }),
  dlqBulkRedrive: (selection: BulkRedriveSelection) =>
    call<BulkRedriveAnswerBody>('/api/dlq/redrive', {
      method: 'POST',
      body: JSON.stringify(selection),
    }),
}
