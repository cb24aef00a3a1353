// A typed client for the admin API. The session cookie (HttpOnly) goes with every call.

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

export interface OperationRow {
  id: string
  name: string
  actor: unknown
  status: string
  startedAt: string
  endedAt: string | null
  events: number
  failures: number
}

export interface ChainEvent {
  id: string
  subject: string
  version: number
  parentId: string
  publishedBy: string | null
  createdAt: string
  publishedAt: string | null
  data: unknown
  handledBy: string[]
  failures: {
    consumerGroup: string
    failures: number
    lastError: string
    inDeadLetterQueue: boolean
  }[]
}

export interface Chain {
  id: string
  name: string
  status: string
  actor: string | null
  startedAt: string
  events: ChainEvent[]
}

export interface SubjectRow {
  subject: string
  publishers: string[]
  consumers: string[]
  counts: { lastHour: number; lastDay: number; total: number }
  failures: number
  failureRate: number
  dlqOpen: number
}

export interface GroupRow {
  durable: string
  consumerGroup: string
  pending: number
  inFlight: number
  redelivered: number
  lastActive: string | null
  dlqOpen: number
  stuck: boolean
}

export interface DlqEntry {
  _id: string
  eventId: string
  consumerGroup: string
  service: string
  subject: string
  operationId?: string
  payload: string
  reason: string
  status: string
  attempts: { attempt: number; message: string; at: string }[]
  history?: { action: string; by: string; at: string; reason?: string }[]
  createdAt: string
}

const q = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(
    Object.entries(params).flatMap(([k, v]) =>
      v === undefined || v === '' ? [] : [[k, String(v)]],
    ),
  ).toString()

export const api = {
  session: () => call<{ name: string; expiresAt: string | null }>('/api/session'),
  signIn: (apiKey: string) =>
    call<{ name: string }>('/api/session', { method: 'POST', body: JSON.stringify({ apiKey }) }),
  signOut: () => call<unknown>('/api/session', { method: 'DELETE' }),
  operations: (params: { search?: string; skip?: number; limit?: number }) =>
    call<{ total: number; operations: OperationRow[] }>(`/api/operations?${q(params)}`),
  chain: (id: string) => call<Chain>(`/api/operations/${encodeURIComponent(id)}/chain`),
  subjects: () => call<{ subjects: SubjectRow[] }>('/api/subjects'),
  groups: () => call<{ consumerGroups: GroupRow[] }>('/api/consumer-groups'),
  dlq: (params: { status?: string; consumerGroup?: string; subject?: string }) =>
    call<{ total: number; entries: DlqEntry[] }>(`/api/dlq?${q(params)}`),
  dlqEntry: (id: string) => call<DlqEntry>(`/api/dlq/${encodeURIComponent(id)}`),
  dlqAct: (id: string, action: 'redrive' | 'discard' | 'resolve', text?: string) =>
    call<{ entry: DlqEntry }>(`/api/dlq/${encodeURIComponent(id)}/${action}`, {
      method: 'POST',
      body: JSON.stringify(action === 'discard' ? { reason: text } : { note: text }),
    }),
}
