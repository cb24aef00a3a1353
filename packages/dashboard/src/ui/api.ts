// A typed client for the admin API. The session cookie (HttpOnly) goes with every call.
import type {
  ConsumerGroupSummary,
  DlqEntry as DlqEntryView,
  DlqEntryDetail as DlqEntryDetailView,
  OperationChain,
  OperationList,
  SubjectSummary,
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

/** A value as it arrives over JSON: dates are ISO strings. */
type Json<T> = T extends Date
  ? string
  : T extends (infer E)[]
    ? Json<E>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T

// The shapes come from the core, which answers them: the client cannot drift from the API.
export type OperationPage = Json<OperationList>
export type OperationRow = OperationPage['operations'][number]
export type Chain = Json<OperationChain>
export type ChainEvent = Chain['events'][number]
export type SubjectRow = Json<SubjectSummary>
export type GroupRow = Json<ConsumerGroupSummary>
/** A DLQ entry: `payload` is its UTF-8 text or null, `payloadBase64` the exact bytes. */
export type DlqEntry = Json<DlqEntryView>
/** An entry with every failure cycle of its event in its consumer group. */
export type DlqEntryDetail = Json<DlqEntryDetailView>
export type DlqCycle = DlqEntryDetail['cycles'][number]
export type DlqActionName = 'redrive' | 'discard' | 'resolve'

const q = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(
    Object.entries(params).flatMap(([k, v]) =>
      v === undefined || v === '' ? [] : [[k, String(v)]],
    ),
  ).toString()

/** Who is signed in: a `read` key may look at everything but act on nothing. */
export interface Who {
  name: string
  role: 'read' | 'operate'
  expiresAt: string | null
}

export const api = {
  session: () => call<Who>('/api/session'),
  signIn: (apiKey: string) =>
    call<Who>('/api/session', { method: 'POST', body: JSON.stringify({ apiKey }) }),
  signOut: () => call<unknown>('/api/session', { method: 'DELETE' }),
  operations: (params: { search?: string; before?: string; limit?: number }) =>
    call<OperationPage>(`/api/operations?${q(params)}`),
  chain: (id: string) => call<Chain>(`/api/operations/${encodeURIComponent(id)}/chain`),
  subjects: () => call<{ subjects: SubjectRow[] }>('/api/subjects'),
  groups: () => call<{ consumerGroups: GroupRow[] }>('/api/consumer-groups'),
  dlq: (params: {
    status?: string
    consumerGroup?: string
    eventId?: string
    before?: string
    limit?: number
  }) => call<{ entries: DlqEntry[]; next: string | null }>(`/api/dlq?${q(params)}`),
  dlqEntry: (id: string) => call<DlqEntryDetail>(`/api/dlq/${encodeURIComponent(id)}`),
  dlqAct: (id: string, action: DlqActionName, text?: string) =>
    call<{ entry: DlqEntry }>(`/api/dlq/${encodeURIComponent(id)}/${action}`, {
      method: 'POST',
      // Each action takes only its own field: the API refuses any other.
      body: JSON.stringify(
        action === 'discard' ? { reason: text } : action === 'resolve' ? { note: text } : {},
      ),
    }),
}
