import { createRoute, z, type RouteConfig } from '@hono/zod-openapi'
import * as s from './schemas.ts'

/**
 * The admin API's routes, each with what it takes and answers. `api.ts` serves them; the OpenAPI
 * document (`openApiDocument`) is generated from them. Every route answers 400 for a malformed
 * path, id, query or body and 404 for a path that names no route, with `error` saying why.
 */

const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

const failure = (description: string) => json(s.ErrorAnswer, description)

const badRequest = failure(
  'A malformed id (bad percent-encoding, NUL, not 1 to 1024 characters), path (a . or .. segment, a backslash, an empty segment), query or body (an unknown or repeated field, a value of the wrong type or out of range); `error` says what',
)
const notFound = failure('No such record, or no such route (`error` says which routes there are)')
const refused = failure(
  'The action is refused; `error` says why (the entry is no longer open, or a redrive of an entry the framework did not sign)',
)
const serverError = failure(
  'The request failed on the server; the admin log has the cause (error level, with method and path)',
)

/** What any call with credentials may answer before its route runs. */
const guarded = {
  401: failure(
    'No valid credentials: none, a wrong key, or a session cookie that is forged, expired or signed out. The answer is { "error": "unauthorized" } and nothing else.',
  ),
  429: {
    ...failure(
      'Too many failed sign-ins or wrong API keys from this client address (or for the named key): refused, whatever the credentials, until the window ends. Counted per server instance.',
    ),
    headers: z.object({
      'Retry-After': z.int().openapi({ description: 'Seconds until attempts are taken again' }),
    }),
  },
  503: failure(
    'The session cookie could not be checked against the sign-outs (the event store does not answer): refused rather than admitted. Retry later.',
  ),
  500: serverError,
}

/** What a writing route answers a read-only key. */
const readOnly = {
  403: failure(
    'The key (or the session signed in with it) is read-only: only GET is allowed; `error` says so. Nothing happened.',
  ),
}

const dlqAction = (action: string, summary: string, body: z.ZodType, required: boolean) =>
  createRoute({
    method: 'post',
    path: `/api/dlq/{id}/${action}`,
    summary,
    request: {
      params: s.IdParam,
      body: { required, content: { 'application/json': { schema: body } } },
    },
    responses: {
      ...guarded,
      ...readOnly,
      200: json(s.ActionAnswer, 'The entry as it is now'),
      400: badRequest,
      404: notFound,
      409: refused,
    },
  })

export const routes = {
  dlqList: createRoute({
    method: 'get',
    path: '/api/dlq',
    summary: 'List DLQ entries, newest first, a page at a time',
    description:
      'Any other query parameter, or one given twice, is refused with 400 (an ignored filter would list more than asked).',
    request: { query: s.DlqQuery },
    responses: { ...guarded, 200: json(s.DlqPage, 'A page of entries'), 400: badRequest },
  }),
  dlqEntry: createRoute({
    method: 'get',
    path: '/api/dlq/{id}',
    summary: 'One DLQ entry: payload, headers, every attempt, and every cycle of its event',
    request: { params: s.IdParam },
    responses: {
      ...guarded,
      200: json(s.DlqEntryDetail, 'The entry'),
      400: badRequest,
      404: notFound,
    },
  }),
  redrive: dlqAction(
    'redrive',
    'Deliver the message again to its consumer group only (no body, or {}); refused unless the entry is open and signed by the framework',
    s.RedriveBody,
    false,
  ),
  discard: dlqAction('discard', 'Close it with a reason; refused unless open', s.DiscardBody, true),
  resolve: dlqAction(
    'resolve',
    'Mark it fixed by hand, with an optional note; refused unless open',
    s.ResolveBody,
    false,
  ),
  bulkRedrive: createRoute({
    method: 'post',
    path: '/api/dlq/redrive',
    summary: 'Redrive every open entry a filter selects, or every open entry with { "all": true }',
    description:
      'A filter that narrows nothing (no field but status) is refused with 400, so a forgotten filter never redrives the whole DLQ; `all` goes without a filter; status may only be open; any other field is refused.',
    request: {
      body: { required: true, content: { 'application/json': { schema: s.BulkRedriveBody } } },
    },
    responses: {
      ...guarded,
      ...readOnly,
      200: json(s.BulkRedriveAnswer, 'What was redriven, and what was refused and why'),
      400: badRequest,
    },
  }),
  operations: createRoute({
    method: 'get',
    path: '/api/operations',
    summary:
      "Operations, newest first, a page at a time (search: an exact id, name or actor, an event's id, or a subject; the counts are in the chain)",
    description:
      "`search` is exact, never a pattern: an operation's id, name or actor as recorded; an event's id finds the event's operation (published or still in the outbox); a subject (`Entity.pastTenseVerb`) finds the operations of its latest 200 events. Rows carry `actorName` when the server has display names for actors (AdminServerOptions.actorNames). Any other query parameter, or one given twice, is refused with 400.",
    request: { query: s.OperationQuery },
    responses: { ...guarded, 200: json(s.OperationPage, 'A page of operations'), 400: badRequest },
  }),
  operation: createRoute({
    method: 'get',
    path: '/api/operations/{id}',
    summary: 'An operation and its events',
    request: { params: s.IdParam },
    responses: {
      ...guarded,
      200: json(s.OperationWithEvents, 'The operation and its events'),
      400: badRequest,
      404: notFound,
    },
  }),
  chain: createRoute({
    method: 'get',
    path: '/api/operations/{id}/chain',
    summary:
      'The chain: each event with its parent, data, the consumer groups that handled it and its failures',
    request: { params: s.IdParam },
    responses: { ...guarded, 200: json(s.Chain, 'The chain'), 400: badRequest, 404: notFound },
  }),
  event: createRoute({
    method: 'get',
    path: '/api/events/{id}',
    summary: 'One event (from the outbox while it is not yet published)',
    request: { params: s.IdParam },
    responses: { ...guarded, 200: json(s.Event, 'The event'), 400: badRequest, 404: notFound },
  }),
  subjects: createRoute({
    method: 'get',
    path: '/api/subjects',
    summary:
      'The map: per subject, publishers, consuming groups, counts (last hour, day, total), failures, open DLQ entries',
    responses: {
      ...guarded,
      200: json(z.object({ subjects: z.array(s.SubjectSummary) }), 'Every subject'),
    },
  }),
  consumerGroups: createRoute({
    method: 'get',
    path: '/api/consumer-groups',
    summary:
      'Consumer groups of the stream, from JetStream (pending, in flight, redelivered, last active), with open DLQ entries and whether one looks stuck',
    responses: {
      ...guarded,
      200: json(
        z.object({ consumerGroups: z.array(s.ConsumerGroupSummary) }),
        'Every consumer group',
      ),
    },
  }),
  openApi: createRoute({
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document',
    responses: {
      ...guarded,
      200: json(z.record(z.string(), z.unknown()), 'The OpenAPI 3.1 document'),
    },
  }),
} satisfies Record<string, RouteConfig>

/**
 * Routes the Node handler serves before these (`server.ts`): signing in needs no credentials,
 * signing out is allowed to read-only keys, metrics are text. Declared for the document.
 */
export const outerRoutes = {
  signIn: createRoute({
    method: 'post',
    path: '/api/session',
    summary:
      'Sign in with { apiKey, name? }: sets the session cookie (the one call without credentials)',
    description:
      "With `name`, the secret must be that key's, and failures count against the name from any address as well as against the client address.",
    security: [],
    request: {
      body: { required: true, content: { 'application/json': { schema: s.SignInBody } } },
    },
    responses: {
      200: json(s.Session, 'Signed in; Set-Cookie carries the session'),
      400: badRequest,
      401: guarded[401],
      429: guarded[429],
      500: serverError,
    },
  }),
  session: createRoute({
    method: 'get',
    path: '/api/session',
    summary: 'Who is signed in, with which role (what the dashboard shows and allows)',
    responses: { ...guarded, 200: json(s.Session, 'The caller') },
  }),
  signOut: createRoute({
    method: 'delete',
    path: '/api/session',
    summary:
      'Sign out: the session is revoked on the server (every admin server over the same event store refuses it from now on) and the cookie is cleared; allowed for read-only keys',
    responses: {
      ...guarded,
      200: json(s.SignedOut, 'Signed out; Set-Cookie clears the cookie'),
      503: failure(
        'The sign-out could not be recorded (the event store does not answer), or the session could not be checked: the session stays valid and the cookie is kept; sign out again',
      ),
    },
  }),
  metrics: createRoute({
    method: 'get',
    path: '/api/metrics',
    summary:
      "Prometheus metrics (text format) of the system: each consumer group's pending and in-flight messages, the outbox's unpublished events; 404 when the server was started without `metrics`",
    responses: {
      ...guarded,
      200: { description: 'The metrics', content: { 'text/plain': { schema: z.string() } } },
      404: notFound,
    },
  }),
  live: createRoute({
    method: 'get',
    path: '/api/live',
    summary:
      'Live updates (Server-Sent Events): `change` events whose data says what changed (`dlq`, `operation:<id>`), not the data; refetch it',
    description:
      'One poll per admin server reads what changed (while a stream is open) and tells every stream. `ready` says the topics are watched; `end` (signed out, session expired) closes the stream. Allowed for read-only keys.',
    request: {
      query: z.object({
        operation: z.string().min(1).max(1024).optional().openapi({
          description: 'An operation whose chain to watch: told when its records change',
        }),
        dlq: z
          .enum(['true', 'false'])
          .optional()
          .openapi({ description: 'Watch the DLQ: told when an entry is created or acted on' }),
      }),
    },
    responses: {
      ...guarded,
      200: {
        description: 'The stream of notices',
        content: { 'text/event-stream': { schema: z.string() } },
      },
      400: badRequest,
      503: failure(
        'Too many live streams, or too many operations watched, on this admin server (Retry-After says when to try again); or the session could not be checked',
      ),
    },
  }),
} satisfies Record<string, RouteConfig>

export const securitySchemes = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key secret (ADMIN_API_KEYS: name:secret[:read|:operate],…); a wrong one counts toward the throttle',
  },
  apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: 'ed_admin_session',
    description:
      'From POST /api/session; HttpOnly, SameSite=Strict, Secure over TLS; expires (8 h by default) and dies at sign-out (DELETE /api/session), on every server over the same event store',
  },
} as const

export const documentInfo = {
  openapi: '3.1.0',
  info: {
    title: 'event-driven admin API',
    version: '1',
    description:
      'Every call but POST /api/session needs an API key (Bearer or X-API-Key) or the session cookie. A key is read-only (`name:secret:read`: GET only, any other method answers 403) or an operator (`name:secret` or `name:secret:operate`). Failed sign-ins and wrong API keys are counted per client address (and per key name when a sign-in names one): after 5 in 15 minutes (by default) every attempt answers 429 with Retry-After until the window ends, even with the right key.',
  },
  security: [{ bearer: [] }, { apiKey: [] }, { session: [] }] as Record<string, string[]>[],
}

/** The flow of each subject (`observe/flow/`): served by `api.ts` beside `routes`. */
export const flowRoutes = {
  flow: createRoute({
    method: 'get',
    path: '/api/flow',
    summary:
      'The flow graph for a window: publishers → subjects → consumer groups → the subjects they emit, each edge with its count, rate, failures and median and p95 step time',
    description:
      'Counts come from every instance (each flushes every 10 s); percentiles are estimated from histogram buckets. Every consumer group JetStream knows shows, a quiet one with count 0. Any query parameter but `window`, or one given twice, is refused with 400.',
    request: { query: s.FlowQuery },
    responses: { ...guarded, 200: json(s.FlowGraph, 'The graph'), 400: badRequest },
  }),
  subjectChain: createRoute({
    method: 'get',
    path: '/api/flow/subjects/{subject}',
    summary:
      "A subject's chain for a window: what follows it (its consumer groups, what they emit, their groups, …), breadth first, with each step's count, failures and median and p95 time",
    description:
      'An unknown subject, or one nothing handles, answers count 0 and no steps (not 404). Any query parameter but `window` is refused with 400.',
    request: { params: s.SubjectParam, query: s.FlowQuery },
    responses: { ...guarded, 200: json(s.SubjectChain, 'The chain'), 400: badRequest },
  }),
} satisfies Record<string, RouteConfig>
