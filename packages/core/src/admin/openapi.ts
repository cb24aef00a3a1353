/** The admin API's OpenAPI document, served at GET /api/openapi.json. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'event-driven admin API', version: '1' },
  security: [{ bearer: [] }, { apiKey: [] }, { session: [] }],
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'An API key secret (ADMIN_API_KEYS: name:secret,…)',
      },
      apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      session: {
        type: 'apiKey',
        in: 'cookie',
        name: 'ed_admin_session',
        description: 'From POST /api/session; HttpOnly, SameSite=Strict; expires',
      },
    },
    responses: {
      Unauthorized: { description: 'No valid credentials' },
      BadRequest: { description: 'A malformed id, filter or body; `error` says what' },
      NotFound: { description: 'No such entry' },
      Refused: { description: 'The action is refused; `error` says why (e.g. already redriven)' },
    },
  },
  paths: {
    '/api/dlq': {
      get: {
        summary: 'List DLQ entries, newest first',
        parameters: [
          'service',
          'consumerGroup',
          'subject',
          'status',
          'from',
          'to',
          'limit',
          'skip',
        ].map((name) => ({
          name,
          in: 'query',
          schema: { type: 'string' },
        })),
        responses: {
          200: { description: '{ entries, total }' },
          400: { $ref: '#/components/responses/BadRequest' },
          401: { $ref: '#/components/responses/Unauthorized' },
        },
      },
    },
    '/api/dlq/{id}': {
      get: {
        summary: 'One DLQ entry: payload, headers, every attempt',
        responses: {
          200: { description: 'the entry' },
          404: { $ref: '#/components/responses/NotFound' },
        },
      },
    },
    '/api/dlq/{id}/redrive': {
      post: {
        summary: 'Deliver again to its consumer group only',
        responses: {
          200: { description: '{ entry }' },
          409: { $ref: '#/components/responses/Refused' },
        },
      },
    },
    '/api/dlq/{id}/discard': {
      post: {
        summary: 'Close it with a reason (body: { reason })',
        responses: {
          200: { description: '{ entry }' },
          409: { $ref: '#/components/responses/Refused' },
        },
      },
    },
    '/api/dlq/{id}/resolve': {
      post: {
        summary: 'Mark it fixed by hand (body: { note? })',
        responses: {
          200: { description: '{ entry }' },
          409: { $ref: '#/components/responses/Refused' },
        },
      },
    },
    '/api/dlq/redrive': {
      post: {
        summary: 'Redrive every open entry a filter selects (body: a filter)',
        responses: { 200: { description: '{ total, redriven, refused }' } },
      },
    },
    '/api/session': {
      post: {
        summary:
          'Sign in with { apiKey }: sets the session cookie (the one call without credentials)',
        security: [],
        responses: {
          200: { description: '{ name, expiresAt }' },
          401: { $ref: '#/components/responses/Unauthorized' },
        },
      },
      get: {
        summary: 'Who is signed in',
        responses: { 200: { description: '{ name, expiresAt }' } },
      },
      delete: {
        summary: 'Sign out: the cookie is cleared',
        responses: { 200: { description: '{ signedOut: true }' } },
      },
    },
    '/api/operations': {
      get: {
        summary:
          'Operations, newest first (search: name, actor or id; status; limit; skip), each with its event and failure counts',
        responses: {
          200: {
            description:
              '{ total, operations: [{ id, name, actor, status, startedAt, endedAt, events, failures }] }',
          },
        },
      },
    },
    '/api/operations/{id}/chain': {
      get: {
        summary:
          'The chain: each event with its parent, data, the consumer groups that handled it and its failures',
        responses: {
          200: { description: '{ id, name, status, actor, startedAt, events }' },
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
        responses: {
          200: { description: '{ operation, events }' },
          404: { $ref: '#/components/responses/NotFound' },
        },
      },
    },
    '/api/events/{id}': {
      get: {
        summary: 'One event',
        responses: {
          200: { description: 'the event' },
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
  },
} as const
