/** The admin API's OpenAPI document, served at GET /api/openapi.json. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'event-driven admin API', version: '1' },
  security: [{ bearer: [] }, { apiKey: [] }],
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'An API key secret (ADMIN_API_KEYS: name:secret,…)',
      },
      apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
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
    '/api/operations': {
      get: {
        summary: 'Operations, newest first (limit, skip)',
        responses: { 200: { description: '{ operations }' } },
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
        summary: 'Consumer groups of the stream, from JetStream',
        responses: { 200: { description: '{ consumerGroups }' } },
      },
    },
  },
} as const
