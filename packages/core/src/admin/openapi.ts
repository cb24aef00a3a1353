/** A DLQ action's answer: the entry as it is now. */
function actionAnswer() {
  return {
    description: '{ entry }',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/ActionAnswer' } } },
  } as const
}

/**
 * The admin API's OpenAPI document, served at GET /api/openapi.json. Every route answers 400
 * for a malformed path or id, 404 for a path that names no route and 500 (logged) on failure.
 */
/** `limit` and `before`, as every list takes them: keyset paging, newest first. */
const pagingParameters = (what: string) => [
  {
    name: 'limit',
    in: 'query',
    schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  },
  {
    name: 'before',
    in: 'query',
    description: `The page before's \`next\`: the page holds ${what} older than it.`,
    schema: { type: 'string', maxLength: 1024 },
  },
]

/** What any call with credentials may answer before its route runs. */
const guarded = {
  401: { $ref: '#/components/responses/Unauthorized' },
  429: { $ref: '#/components/responses/TooManyAttempts' },
  503: { $ref: '#/components/responses/SessionUnchecked' },
} as const

/** What a writing route answers a read-only key. */
const forbidden = { 403: { $ref: '#/components/responses/ReadOnly' } } as const

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'event-driven admin API',
    version: '1',
    description:
      'Every call but POST /api/session needs an API key (Bearer or X-API-Key) or the session cookie. A key is read-only (`name:secret:read`: GET only, any other method answers 403) or an operator (`name:secret` or `name:secret:operate`). Failed sign-ins and wrong API keys are counted per client address (and per key name when a sign-in names one): after 5 in 15 minutes (by default) every attempt answers 429 with Retry-After until the window ends, even with the right key.',
  },
  security: [{ bearer: [] }, { apiKey: [] }, { session: [] }],
  components: {
    securitySchemes: {
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
    },
    responses: {
      Unauthorized: {
        description:
          'No valid credentials: none, a wrong key, or a session cookie that is forged, expired or signed out. The answer is { "error": "unauthorized" } and nothing else.',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      ReadOnly: {
        description:
          'The key (or the session signed in with it) is read-only: only GET is allowed; `error` says so. Nothing happened.',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      TooManyAttempts: {
        description:
          'Too many failed sign-ins or wrong API keys from this client address (or for the named key): refused, whatever the credentials, until the window ends. Counted per server instance.',
        headers: {
          'Retry-After': {
            description: 'Seconds until attempts are taken again',
            schema: { type: 'integer' },
          },
        },
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      SessionUnchecked: {
        description:
          'The session cookie could not be checked against the sign-outs (the event store does not answer): refused rather than admitted. Retry later.',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      BadRequest: {
        description:
          'A malformed id (bad percent-encoding, NUL, not 1 to 1024 characters), path (a . or .. segment, a backslash, an empty segment), query or body (an unknown or repeated field, a value of the wrong type or out of range); `error` says what',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      NotFound: {
        description: 'No such entry, or no such route (`error` says which routes there are)',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      Refused: {
        description:
          'The action is refused; `error` says why (the entry is no longer open, or a redrive of an entry the framework did not sign)',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      ServerError: {
        description:
          'The request failed on the server; the admin log has the cause (error level, with method and path)',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    },
    parameters: {
      Id: {
        name: 'id',
        in: 'path',
        required: true,
        description:
          'Percent-encoded (encodeURIComponent): any text of 1 to 1024 characters without NUL. DLQ entry ids are 32 hex characters (entries of the first format keep their older ids).',
        schema: { type: 'string', minLength: 1, maxLength: 1024 },
      },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'string' } },
      },
      DlqStatus: { type: 'string', enum: ['open', 'redriven', 'discarded', 'resolved'] },
      DlqFilter: {
        type: 'object',
        description:
          'Every field optional; strings of at most 300 characters without NUL (an empty one counts as absent). Any other field is refused with 400.',
        properties: {
          service: { type: 'string' },
          consumerGroup: { type: 'string', description: '`<service>.<handler>`' },
          subject: { type: 'string' },
          status: { $ref: '#/components/schemas/DlqStatus' },
          eventId: {
            type: 'string',
            description: 'As stored: ids longer than 200 characters are stored cut, with `…`',
          },
          from: { type: 'string', format: 'date-time', description: 'createdAt ≥ from' },
          to: { type: 'string', format: 'date-time', description: 'createdAt ≤ to' },
        },
      },
      DlqAction: {
        type: 'object',
        required: ['action', 'by', 'at'],
        properties: {
          action: { type: 'string', enum: ['redrive', 'discard', 'resolve'] },
          by: { type: 'string', description: 'The API key name that acted' },
          at: { type: 'string', format: 'date-time' },
          reason: { type: 'string', description: "A discard's reason or a resolve's note" },
        },
      },
      AttemptError: {
        type: 'object',
        required: ['attempt', 'message', 'at'],
        properties: {
          attempt: { type: 'integer', description: "JetStream's delivery count" },
          streamSequence: { type: 'integer' },
          message: { type: 'string' },
          stack: { type: 'string' },
          at: { type: 'string', format: 'date-time' },
        },
      },
      DlqEntry: {
        type: 'object',
        description:
          'One failure cycle of one message for one consumer group, with the message as received: `payloadBase64` is the body byte for byte, `payload` its UTF-8 text (null when it is not UTF-8), `headers` the header lines in order.',
        required: [
          '_id',
          'eventId',
          'consumerGroup',
          'service',
          'handler',
          'subject',
          'payload',
          'payloadBase64',
          'headers',
          'trusted',
          'reason',
          'attempts',
          'status',
          'stream',
          'streamSequence',
          'createdAt',
        ],
        properties: {
          _id: { type: 'string' },
          eventId: { type: 'string', description: 'A label: cut at 200 characters' },
          consumerGroup: { type: 'string' },
          service: { type: 'string' },
          handler: { type: 'string' },
          subject: { type: 'string' },
          version: { type: 'integer' },
          operationId: { type: 'string' },
          parentId: { type: 'string' },
          redriveOf: {
            type: 'string',
            description: 'The entry whose redrive this message was (the cycle before)',
          },
          payload: { type: ['string', 'null'] },
          payloadBase64: { type: 'string', contentEncoding: 'base64' },
          headers: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'value'],
              properties: { name: { type: 'string' }, value: { type: 'string' } },
            },
          },
          trusted: {
            type: 'boolean',
            description:
              'The framework signed the message; an entry it did not sign is never redriven',
          },
          reason: { type: 'string' },
          attempts: { type: 'array', items: { $ref: '#/components/schemas/AttemptError' } },
          status: { $ref: '#/components/schemas/DlqStatus' },
          history: {
            type: 'array',
            maxItems: 1,
            description: 'The action that closed the entry',
            items: { $ref: '#/components/schemas/DlqAction' },
          },
          stream: { type: 'string' },
          streamSequence: { type: 'integer' },
          createdAt: { type: 'string', format: 'date-time' },
          parkedAt: {
            type: 'string',
            format: 'date-time',
            description: 'Parked in JetStream first: MongoDB did not take it in time',
          },
        },
      },
      DlqEntryDetail: {
        allOf: [
          { $ref: '#/components/schemas/DlqEntry' },
          {
            type: 'object',
            required: ['cycles'],
            properties: {
              cycles: {
                type: 'array',
                description:
                  'Every failure cycle of the same event in the same consumer group, oldest first (this entry among them), each with the action that closed it',
                items: {
                  type: 'object',
                  required: ['id', 'status', 'createdAt'],
                  properties: {
                    id: { type: 'string' },
                    status: { $ref: '#/components/schemas/DlqStatus' },
                    createdAt: { type: 'string', format: 'date-time' },
                    action: { $ref: '#/components/schemas/DlqAction' },
                  },
                },
              },
            },
          },
        ],
      },
      Session: {
        type: 'object',
        required: ['name', 'role', 'expiresAt'],
        properties: {
          name: { type: 'string', description: 'The key name: recorded as who acted' },
          role: {
            type: 'string',
            enum: ['read', 'operate'],
            description: 'read: GET only; operate: also redrive, discard and resolve',
          },
          expiresAt: {
            type: ['string', 'null'],
            format: 'date-time',
            description: 'When the session ends; null when the call came with an API key',
          },
        },
      },
      ActionAnswer: {
        type: 'object',
        required: ['entry'],
        properties: { entry: { $ref: '#/components/schemas/DlqEntry' } },
      },
    },
  },
  paths: {
    '/api/dlq': {
      get: {
        summary: 'List DLQ entries, newest first, a page at a time',
        parameters: [
          ...(['service', 'consumerGroup', 'subject', 'eventId'] as const).map((name) => ({
            name,
            in: 'query',
            schema: { type: 'string', maxLength: 300 },
          })),
          {
            name: 'status',
            in: 'query',
            schema: { $ref: '#/components/schemas/DlqStatus' },
          },
          ...(['from', 'to'] as const).map((name) => ({
            name,
            in: 'query',
            schema: { type: 'string', format: 'date-time' },
          })),
          ...pagingParameters('entries'),
        ],
        description:
          'Any other query parameter, or one given twice, is refused with 400 (an ignored filter would list more than asked).',
        responses: {
          ...guarded,
          200: {
            description: '{ entries, next }: `next` is null on the last page',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['entries', 'next'],
                  properties: {
                    entries: { type: 'array', items: { $ref: '#/components/schemas/DlqEntry' } },
                    next: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
          400: { $ref: '#/components/responses/BadRequest' },
          500: { $ref: '#/components/responses/ServerError' },
        },
      },
    },
    '/api/dlq/{id}': {
      get: {
        summary: 'One DLQ entry: payload, headers, every attempt, and every cycle of its event',
        parameters: [{ $ref: '#/components/parameters/Id' }],
        responses: {
          ...guarded,
          200: {
            description: 'the entry',
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/DlqEntryDetail' } },
            },
          },
          400: { $ref: '#/components/responses/BadRequest' },
          404: { $ref: '#/components/responses/NotFound' },
        },
      },
    },
    '/api/dlq/{id}/redrive': {
      post: {
        summary:
          'Deliver the message again to its consumer group only (no body, or {}); refused unless the entry is open and signed by the framework',
        parameters: [{ $ref: '#/components/parameters/Id' }],
        responses: {
          ...guarded,
          ...forbidden,
          200: actionAnswer(),
          400: { $ref: '#/components/responses/BadRequest' },
          404: { $ref: '#/components/responses/NotFound' },
          409: { $ref: '#/components/responses/Refused' },
        },
      },
    },
    '/api/dlq/{id}/discard': {
      post: {
        summary: 'Close it with a reason; refused unless open',
        parameters: [{ $ref: '#/components/parameters/Id' }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['reason'],
                additionalProperties: false,
                properties: { reason: { type: 'string', minLength: 1, maxLength: 10000 } },
              },
            },
          },
        },
        responses: {
          ...guarded,
          ...forbidden,
          200: actionAnswer(),
          400: { $ref: '#/components/responses/BadRequest' },
          404: { $ref: '#/components/responses/NotFound' },
          409: { $ref: '#/components/responses/Refused' },
        },
      },
    },
    '/api/dlq/{id}/resolve': {
      post: {
        summary: 'Mark it fixed by hand, with an optional note; refused unless open',
        parameters: [{ $ref: '#/components/parameters/Id' }],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                properties: { note: { type: 'string', maxLength: 10000 } },
              },
            },
          },
        },
        responses: {
          ...guarded,
          ...forbidden,
          200: actionAnswer(),
          400: { $ref: '#/components/responses/BadRequest' },
          404: { $ref: '#/components/responses/NotFound' },
          409: { $ref: '#/components/responses/Refused' },
        },
      },
    },
    '/api/dlq/redrive': {
      post: {
        summary:
          'Redrive every open entry a filter selects, or every open entry with { "all": true }',
        description:
          'A filter that narrows nothing (no field but status) is refused with 400, so a forgotten filter never redrives the whole DLQ; `all` goes without a filter; status may only be open; any other field is refused.',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                oneOf: [
                  {
                    allOf: [{ $ref: '#/components/schemas/DlqFilter' }],
                    properties: { all: { const: false } },
                    unevaluatedProperties: false,
                  },
                  {
                    type: 'object',
                    required: ['all'],
                    additionalProperties: false,
                    properties: { all: { const: true } },
                  },
                ],
              },
            },
          },
        },
        responses: {
          ...guarded,
          ...forbidden,
          200: {
            description: '{ total, redriven, refused }',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['total', 'redriven', 'refused'],
                  properties: {
                    total: { type: 'integer' },
                    redriven: { type: 'array', items: { type: 'string' } },
                    refused: {
                      type: 'array',
                      items: {
                        type: 'object',
                        required: ['id', 'reason'],
                        properties: { id: { type: 'string' }, reason: { type: 'string' } },
                      },
                    },
                  },
                },
              },
            },
          },
          400: { $ref: '#/components/responses/BadRequest' },
        },
      },
    },
    '/api/session': {
      post: {
        summary:
          'Sign in with { apiKey, name? }: sets the session cookie (the one call without credentials)',
        description:
          "With `name`, the secret must be that key's, and failures count against the name from any address as well as against the client address.",
        security: [],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['apiKey'],
                properties: {
                  apiKey: { type: 'string' },
                  name: { type: 'string', maxLength: 200 },
                },
              },
            },
          },
        },
        responses: {
          200: {
            description: 'Signed in; Set-Cookie carries the session',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Session' } } },
          },
          400: { $ref: '#/components/responses/BadRequest' },
          401: { $ref: '#/components/responses/Unauthorized' },
          429: { $ref: '#/components/responses/TooManyAttempts' },
        },
      },
      get: {
        summary: 'Who is signed in, with which role (what the dashboard shows and allows)',
        responses: {
          ...guarded,
          200: {
            description: 'the caller',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Session' } } },
          },
        },
      },
      delete: {
        summary:
          'Sign out: the session is revoked on the server (every admin server over the same event store refuses it from now on) and the cookie is cleared; allowed for read-only keys',
        responses: {
          ...guarded,
          200: { description: '{ signedOut: true }' },
          503: {
            description:
              'The sign-out could not be recorded (the event store does not answer): the session stays valid and the cookie is kept; sign out again',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        },
      },
    },
    '/api/operations': {
      get: {
        summary:
          'Operations, newest first, a page at a time (search: an exact id, name or actor; the counts are in the chain)',
        parameters: [
          { name: 'search', in: 'query', schema: { type: 'string', maxLength: 200 } },
          {
            name: 'status',
            in: 'query',
            schema: { type: 'string', enum: ['started', 'completed', 'failed'] },
          },
          ...pagingParameters('operations'),
        ],
        description: 'Any other query parameter, or one given twice, is refused with 400.',
        responses: {
          ...guarded,
          200: {
            description:
              '{ operations: [{ id, name, actor, status, startedAt, endedAt }], next }: `next` is null on the last page',
          },
          400: { $ref: '#/components/responses/BadRequest' },
        },
      },
    },
    '/api/operations/{id}/chain': {
      get: {
        summary:
          'The chain: each event with its parent, data, the consumer groups that handled it and its failures',
        parameters: [{ $ref: '#/components/parameters/Id' }],
        responses: {
          ...guarded,
          200: { description: '{ id, name, status, actor, startedAt, events }' },
          400: { $ref: '#/components/responses/BadRequest' },
          404: { $ref: '#/components/responses/NotFound' },
        },
      },
    },
    '/api/subjects': {
      get: {
        summary:
          'The map: per subject, publishers, consuming groups, counts (last hour, day, total), failures, open DLQ entries',
        responses: { 200: { description: '{ subjects }' } },
      },
    },
    '/api/operations/{id}': {
      get: {
        summary: 'An operation and its events',
        parameters: [{ $ref: '#/components/parameters/Id' }],
        responses: {
          ...guarded,
          200: { description: '{ operation, events }' },
          400: { $ref: '#/components/responses/BadRequest' },
          404: { $ref: '#/components/responses/NotFound' },
        },
      },
    },
    '/api/events/{id}': {
      get: {
        summary: 'One event (from the outbox while it is not yet published)',
        parameters: [{ $ref: '#/components/parameters/Id' }],
        responses: {
          ...guarded,
          200: { description: 'the event' },
          400: { $ref: '#/components/responses/BadRequest' },
          404: { $ref: '#/components/responses/NotFound' },
        },
      },
    },
    '/api/consumer-groups': {
      get: {
        summary:
          'Consumer groups of the stream, from JetStream (pending, in flight, redelivered, last active), with open DLQ entries and whether one looks stuck',
        responses: { 200: { description: '{ consumerGroups }' } },
      },
    },
    '/api/metrics': {
      get: {
        summary:
          "Prometheus metrics (text format) of the system: each consumer group's pending and in-flight messages, the outbox's unpublished events; 404 when the server was started without `metrics`",
        responses: {
          ...guarded,
          200: { description: 'the metrics', content: { 'text/plain': {} } },
          404: { $ref: '#/components/responses/NotFound' },
        },
      },
    },
  },
} as const
