// The flow API's answers, as docs/dashboard.md's contract states them. A local mirror until the
// core exports `FlowGraphAnswer` and `SubjectChainAnswer` from `@event-driven/core/admin`.

/** The windows the flow API reads over. */
export type FlowWindow = '15m' | '1h' | '6h' | '24h'

/** `GET /api/flow?window=`: publishers → subjects → consumer groups → the subjects they emit. */
export interface FlowGraphAnswer {
  window: FlowWindow
  since: string
  until: string
  nodes: Array<{ id: string; kind: 'service' | 'subject' | 'group'; label: string }>
  edges: Array<{
    from: string
    to: string
    kind: 'publishes' | 'delivers' | 'emits'
    count: number
    perMinute: number
    failures: number
    failureRate: number
    p50Ms: number | null
    p95Ms: number | null
  }>
}

/** `GET /api/flow/subjects/{subject}?window=`: what follows a subject, breadth-first. */
export interface SubjectChainAnswer {
  subject: string
  window: FlowWindow
  since: string
  until: string
  count: number
  steps: Array<{
    depth: number
    from: string
    to: string
    kind: 'delivers' | 'emits'
    count: number
    failures: number
    failureRate: number
    p50Ms: number | null
    p95Ms: number | null
  }>
}
