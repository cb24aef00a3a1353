import { z } from '@hono/zod-openapi'
import {
  dlqStatuses,
  maxFilterLength,
  maxIdLength,
  maxNoteLength,
  operationStatuses,
} from './checks.ts'
import { defaultFlowWindow, flowWindowNames } from '../observe/flow/windows.ts'

/**
 * What the admin API takes and answers, as zod schemas: the route declarations (`routes.ts`) use
 * them, the OpenAPI document is generated from them, and the dashboard's client reads its types
 * from them (dates as ISO strings, as they arrive over JSON).
 */

const dateTime = z.iso.datetime({ offset: true })

export const ErrorAnswer = z.object({ error: z.string() }).openapi('Error')

export const DlqStatus = z.enum(dlqStatuses).openapi('DlqStatus')

export const DlqAction = z
  .object({
    action: z.enum(['redrive', 'discard', 'resolve']),
    by: z.string().openapi({ description: 'The API key name that acted' }),
    at: dateTime,
    reason: z
      .string()
      .optional()
      .openapi({ description: "A discard's reason or a resolve's note" }),
  })
  .openapi('DlqAction')

export const AttemptError = z
  .object({
    attempt: z.int().openapi({ description: "JetStream's delivery count" }),
    streamSequence: z.int().optional(),
    message: z.string(),
    stack: z.string().optional(),
    startedAt: dateTime.optional(),
    at: dateTime,
  })
  .openapi('AttemptError')

export const DlqEntry = z
  .object({
    _id: z.string(),
    eventId: z.string().openapi({ description: 'A label: cut at 200 characters' }),
    consumerGroup: z.string(),
    service: z.string(),
    handler: z.string(),
    subject: z.string(),
    version: z.int().optional(),
    operationId: z.string().optional(),
    parentId: z.string().optional(),
    redriveOf: z
      .string()
      .optional()
      .openapi({ description: 'The entry whose redrive this message was (the cycle before)' }),
    payload: z.string().nullable(),
    payloadBase64: z.base64(),
    headers: z.array(z.object({ name: z.string(), value: z.string() })),
    trusted: z.boolean().openapi({
      description: 'The framework signed the message; an entry it did not sign is never redriven',
    }),
    reason: z.string(),
    attempts: z.array(AttemptError),
    status: DlqStatus,
    history: z
      .array(DlqAction)
      .max(1)
      .optional()
      .openapi({ description: 'The action that closed the entry' }),
    stream: z.string(),
    streamSequence: z.int(),
    createdAt: dateTime,
    parkedAt: dateTime
      .optional()
      .openapi({ description: 'Parked in JetStream first: MongoDB did not take it in time' }),
    ordering: z.object({ partition: z.int(), partitionKey: z.string() }).optional().openapi({
      description:
        'Set when an ordered consumer group gave the event up: its partition and key token; a redrive delivers it after the later events of its key',
    }),
  })
  .openapi('DlqEntry', {
    description:
      'One failure cycle of one message for one consumer group, with the message as received: `payloadBase64` is the body byte for byte, `payload` its UTF-8 text (null when it is not UTF-8), `headers` the header lines in order.',
  })

export const DlqCycle = z
  .object({ id: z.string(), status: DlqStatus, createdAt: dateTime, action: DlqAction.optional() })
  .openapi('DlqCycle')

export const DlqEntryDetail = DlqEntry.extend({
  cycles: z.array(DlqCycle).openapi({
    description:
      'Every failure cycle of the same event in the same consumer group, oldest first (this entry among them), each with the action that closed it',
  }),
}).openapi('DlqEntryDetail')

export const DlqPage = z
  .object({
    entries: z.array(DlqEntry),
    next: z.string().nullable().openapi({ description: 'Pass as `before`; null on the last page' }),
  })
  .openapi('DlqPage')

export const ActionAnswer = z.object({ entry: DlqEntry }).openapi('ActionAnswer')

export const BulkRedriveAnswer = z
  .object({
    total: z.int(),
    redriven: z.array(z.string()),
    refused: z.array(z.object({ id: z.string(), reason: z.string() })),
  })
  .openapi('BulkRedriveAnswer')

export const Session = z
  .object({
    name: z.string().openapi({ description: 'The key name: recorded as who acted' }),
    role: z.enum(['read', 'operate']).openapi({
      description: 'read: GET only; operate: also redrive, discard and resolve',
    }),
    expiresAt: dateTime.nullable().openapi({
      description: 'When the session ends; null when the call came with an API key',
    }),
  })
  .openapi('Session')

export const SignedOut = z.object({ signedOut: z.literal(true) }).openapi('SignedOut')

export const OperationStatus = z.enum(operationStatuses).openapi('OperationStatus')

/** The display name beside an actor, when the server was given `actorNames`. */
const actorName = z.string().optional().openapi({
  description:
    "The actor's display name, from the service (AdminServerOptions.actorNames); absent when it has none or did not answer in time",
})

export const OperationPage = z
  .object({
    operations: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        actor: z.unknown(),
        actorName,
        status: OperationStatus,
        startedAt: dateTime,
        endedAt: dateTime.nullable(),
      }),
    ),
    next: z.string().nullable().openapi({ description: 'Pass as `before`; null on the last page' }),
  })
  .openapi('OperationPage')

export const AttemptTiming = z
  .object({
    consumerGroup: z.string(),
    attempt: z.int().nullable(),
    startedAt: dateTime.nullable(),
    endedAt: dateTime,
    outcome: z.enum(['handled', 'failed']),
    error: z.string().optional(),
  })
  .openapi('AttemptTiming')

export const Chain = z
  .object({
    id: z.string(),
    name: z.string(),
    status: OperationStatus,
    actor: z.string().nullable(),
    actorName,
    startedAt: dateTime,
    events: z.array(
      z.object({
        id: z.string(),
        subject: z.string(),
        version: z.int(),
        parentId: z.string(),
        publishedBy: z
          .string()
          .nullable()
          .openapi({ description: 'The consumer group whose handler emitted it' }),
        createdAt: dateTime,
        publishedAt: dateTime.nullable(),
        data: z.unknown(),
        handledBy: z.array(z.string()),
        failures: z.array(
          z.object({
            consumerGroup: z.string(),
            failures: z.int(),
            lastError: z.string(),
            inDeadLetterQueue: z.boolean(),
            deadLetterStatus: DlqStatus.nullable().openapi({
              description:
                'The status of its latest DLQ entry; null when it has none. A redriven one is being retried; a discarded or resolved one is closed.',
            }),
          }),
        ),
        attempts: z.array(AttemptTiming),
      }),
    ),
  })
  .openapi('Chain')

/** An event as recorded (more fields may come: the store's own). */
export const Event = z
  .looseObject({
    _id: z.string(),
    subject: z.string(),
    version: z.int(),
    data: z.unknown(),
    operationId: z.string(),
    parentId: z.string(),
    publishedBy: z.object({ service: z.string(), consumerGroup: z.string().optional() }),
    createdAt: dateTime,
    publishedAt: dateTime.optional(),
  })
  .openapi('Event')

/** An operation as recorded (more fields may come: the store's own). */
export const Operation = z
  .looseObject({
    _id: z.string(),
    name: z.string(),
    input: z.unknown(),
    actor: z.unknown(),
    status: OperationStatus,
    error: z.string().optional(),
    service: z.string(),
    startedAt: dateTime,
    endedAt: dateTime.optional(),
  })
  .openapi('Operation')

export const OperationWithEvents = z
  .object({ operation: Operation, events: z.array(Event) })
  .openapi('OperationWithEvents')

export const SubjectSummary = z
  .object({
    subject: z.string(),
    publishers: z.array(z.string()),
    consumers: z.array(z.string()),
    counts: z.object({ lastHour: z.int(), lastDay: z.int(), total: z.int() }),
    failures: z.int(),
    failureRate: z.number(),
    dlqOpen: z.int(),
  })
  .openapi('SubjectSummary')

export const ConsumerGroupSummary = z
  .object({
    durable: z.string(),
    filterSubjects: z.array(z.string()),
    pending: z.int(),
    inFlight: z.int(),
    redelivered: z.int(),
    lastActive: z.string().nullable(),
    partitions: z.int().optional(),
    consumerGroup: z.string(),
    dlqOpen: z.int(),
    stuck: z.boolean(),
  })
  .openapi('ConsumerGroupSummary')

// What the routes take.

export const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(maxIdLength)
    .openapi({
      param: { name: 'id', in: 'path' },
      description:
        'Percent-encoded (encodeURIComponent): any text of 1 to 1024 characters without NUL. DLQ entry ids are 32 hex characters (entries of the first format keep their older ids).',
    }),
})

const filterText = (description?: string) =>
  z
    .string()
    .max(maxFilterLength)
    .optional()
    .openapi(description ? { description } : {})

const dlqFilterFields = {
  service: filterText(),
  consumerGroup: filterText('`<service>.<handler>`'),
  subject: filterText(),
  status: DlqStatus.optional(),
  eventId: filterText('As stored: ids longer than 200 characters are stored cut, with `…`'),
  from: dateTime.optional().openapi({ description: 'createdAt ≥ from' }),
  to: dateTime.optional().openapi({ description: 'createdAt ≤ to' }),
}

const pageFields = (what: string) => ({
  limit: z.int().min(1).max(500).default(50).optional(),
  before: z
    .string()
    .max(maxIdLength)
    .optional()
    .openapi({ description: `The page before's \`next\`: the page holds ${what} older than it.` }),
})

export const DlqQuery = z.strictObject({ ...dlqFilterFields, ...pageFields('entries') })

export const OperationQuery = z.strictObject({
  search: z.string().max(200).optional().openapi({
    description:
      "Exact: an operation's id, name or actor; an event's id (its operation); or a subject (the operations of its latest 200 events)",
  }),
  status: OperationStatus.optional(),
  ...pageFields('operations'),
})

export const BulkRedriveBody = z
  .union([
    z.strictObject({
      ...dlqFilterFields,
      status: z.literal('open').optional(),
      all: z.literal(false).optional(),
    }),
    z.strictObject({ all: z.literal(true) }),
  ])
  .openapi('BulkRedriveBody', {
    description:
      'A filter (strings of at most 300 characters without NUL; an empty one counts as absent), or { "all": true } for every open entry. A filter that narrows nothing is refused with 400; any other field too.',
  })

export const DiscardBody = z.strictObject({ reason: z.string().min(1).max(maxNoteLength) })
export const ResolveBody = z.strictObject({ note: z.string().max(maxNoteLength).optional() })
export const RedriveBody = z.strictObject({})
export const SignInBody = z.object({ apiKey: z.string(), name: z.string().max(200).optional() })

/** The answers, as the dashboard reads them. */
export type DlqEntryAnswer = z.output<typeof DlqEntry>
export type DlqEntryDetailAnswer = z.output<typeof DlqEntryDetail>
export type DlqPageAnswer = z.output<typeof DlqPage>
export type ActionAnswerBody = z.output<typeof ActionAnswer>
export type BulkRedriveAnswerBody = z.output<typeof BulkRedriveAnswer>
export type SessionAnswer = z.output<typeof Session>
export type OperationPageAnswer = z.output<typeof OperationPage>
export type ChainAnswer = z.output<typeof Chain>
export type SubjectSummaryAnswer = z.output<typeof SubjectSummary>
export type ConsumerGroupSummaryAnswer = z.output<typeof ConsumerGroupSummary>

// The flow of each subject (`observe/flow/`, docs/dashboard.md): the graph and a subject's chain.

export const FlowWindow = z
  .enum(flowWindowNames)
  .openapi('FlowWindow', { description: 'How far back the counts go, from now' })

export const FlowQuery = z.strictObject({
  window: FlowWindow.default(defaultFlowWindow).optional(),
})

export const FlowNode = z
  .object({
    id: z.string().openapi({
      description:
        '`service:<name>` (publishing from operations), `subject:<subject>` or `group:<service>.<handler>`',
    }),
    kind: z.enum(['service', 'subject', 'group']),
    label: z.string(),
  })
  .openapi('FlowNode')

const flowCounts = {
  count: z.int().openapi({
    description: 'Events published (publishes, emits) or handler runs (delivers) in the window',
  }),
  failures: z.int().openapi({ description: 'Failed handler runs (delivers); 0 for the others' }),
  failureRate: z.number().openapi({ description: 'failures / count; 0 when count is 0' }),
  p50Ms: z.number().nullable().openapi({
    description:
      "The median step time in ms, estimated from histogram buckets (always within the true median's bucket); null when none was counted",
  }),
  p95Ms: z.number().nullable().openapi({ description: 'The 95th percentile, the same way' }),
}

export const FlowEdge = z
  .object({
    from: z.string().openapi({ description: 'A node id' }),
    to: z.string().openapi({ description: 'A node id' }),
    kind: z.enum(['publishes', 'delivers', 'emits']).openapi({
      description:
        "publishes: service → subject (an operation's event; time: created → JetStream confirmed); delivers: subject → group (handler runs; time: the event's creation → the run's end); emits: group → subject (time: the parent event's creation → the child's)",
    }),
    perMinute: z.number().openapi({ description: 'count per minute from `since` to `until`' }),
    ...flowCounts,
  })
  .openapi('FlowEdge')

export const FlowGraph = z
  .object({
    window: FlowWindow,
    since: dateTime.openapi({
      description:
        'The start of what was read: a minute for 15m and 1h, an hour for 6h and 24h (so up to an hour before the window)',
    }),
    until: dateTime.openapi({ description: 'Now' }),
    nodes: z.array(FlowNode),
    edges: z.array(FlowEdge),
  })
  .openapi('FlowGraph', {
    description:
      'Publishers → subjects → consumer groups → the subjects they emit. Every consumer group JetStream knows shows with its delivers edges, a quiet one with count 0. Each instance flushes its counts every 10 s.',
  })

export const ChainStep = z
  .object({
    depth: z.int().openapi({
      description: "1: the subject's consumer groups; 2: what they emit; 3: its groups; …",
    }),
    from: z.string(),
    to: z.string(),
    kind: z.enum(['delivers', 'emits']),
    ...flowCounts,
  })
  .openapi('ChainStep')

export const SubjectChain = z
  .object({
    subject: z.string(),
    window: FlowWindow,
    since: dateTime,
    until: dateTime,
    count: z.int().openapi({ description: 'Events of this subject published in the window' }),
    steps: z.array(ChainStep).openapi({
      description:
        'Breadth first from the subject, each edge once, at most depth 8; none for a subject nothing handles',
    }),
  })
  .openapi('SubjectChain')

export const SubjectParam = z.object({
  subject: z
    .string()
    .min(1)
    .max(maxIdLength)
    .openapi({
      param: { name: 'subject', in: 'path' },
      description: 'Percent-encoded (encodeURIComponent): 1 to 1024 characters without NUL',
    }),
})

export type FlowGraphAnswer = z.output<typeof FlowGraph>
export type SubjectChainAnswer = z.output<typeof SubjectChain>
