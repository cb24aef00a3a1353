import { OpenAPIHono, type RouteConfig, type RouteConfigToTypedResponse } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { DlqFilterError, dlqFilterFields, type DlqManager } from '../dlq/manage.ts'
import type { AdminSource as Service } from '../open-event-store.ts'
import type { OperationRecord } from '../store/event-store.ts'
import { operationChain, recordedEvent, recordedEventsOf } from '../store/operation-chain.ts'
import { withActorNames, type ActorNameCache } from './actor-names.ts'
import { dlqRefusalStatus } from './answer.ts'
import {
  BadRequest,
  NoRoute,
  dlqFilter,
  flowWindow,
  id,
  jsonBody,
  maxNoteLength,
  onlyFields,
  operationStatuses,
  page,
  text,
  type Call,
} from './checks.ts'
import { documentInfo, flowRoutes, outerRoutes, routes, securitySchemes } from './routes.ts'
import { flowGraph, subjectChain } from '../observe/flow/graph.ts'
import { consumerGroupsWithDlq, listOperations, subjectMap } from './views.ts'

/**
 * The admin API's routes served with Hono (`routes.ts` declares them): the Node handler in
 * `server.ts` admits the caller, checks the path as sent, then hands the call over. Requests are
 * checked by `checks.ts`, whose reasons are the API's contract; answers are typed by the routes'
 * response schemas.
 */
type AdminEnv = { Bindings: { call: Call } }

const dlqListFields: readonly string[] = [...dlqFilterFields, 'limit', 'before']
const bulkRedriveFields: readonly string[] = [...dlqFilterFields, 'all']
const operationListFields: readonly string[] = ['search', 'status', 'limit', 'before']
const dlqActions = ['redrive', 'discard', 'resolve'] as const
/** Each action's body: anything else is refused, so a misspelt note is not dropped silently. */
const dlqActionFields = { redrive: [], discard: ['reason'], resolve: ['note'] } as const

/** The routes' `{id}`: the call's second segment, decoded and checked here (not by Hono). */
const idOf = (call: Call) => id(call.segments[1]!)

function noRoute(call: Call, why: string): never {
  throw new NoRoute(`no route ${call.method} ${call.path.slice(0, 200)}: ${why}`)
}

/** Why a call matched no route: the reason the 404 gives. Malformed ids are named first. */
function whyNoRoute(call: Call): never {
  const [resource = '', rawId, second, ...extra] = call.segments
  if (resource === 'dlq') {
    if (extra.length > 0) noRoute(call, 'too many path segments')
    if (rawId === undefined) noRoute(call, 'the DLQ is listed with GET')
    id(rawId)
    if (second === undefined) noRoute(call, 'an entry is shown with GET, acted on at /{action}')
    noRoute(call, `the actions are POST ${dlqActions.join(', ')}`)
  }
  if (resource === 'operations') {
    if (call.method !== 'GET') noRoute(call, 'operations are read with GET')
    noRoute(call, 'an operation has /{id} and /{id}/chain')
  }
  if (resource === 'events') noRoute(call, 'an event is read with GET /api/events/{id}')
  if (resource === 'flow') {
    if (rawId === 'subjects' && second !== undefined) id(second)
    noRoute(call, 'the flow is read with GET /api/flow and GET /api/flow/subjects/{subject}')
  }
  if (['openapi.json', 'consumer-groups', 'subjects'].includes(resource))
    noRoute(call, `/api/${resource} is read with GET`)
  noRoute(call, 'see /api/openapi.json')
}

/**
 * Redrives what the body selects: a filter, or `{ "all": true }` for every open entry. An empty
 * filter is refused, so a forgotten filter never redrives the whole DLQ.
 */
async function bulkRedrive(dlq: DlqManager, body: Record<string, unknown>, by: string) {
  onlyFields(body, bulkRedriveFields, 'field')
  const { all, ...selection } = body
  if (all !== undefined && typeof all !== 'boolean')
    throw new BadRequest('all must be true or false')
  const filter = dlqFilter(selection)
  // Only open entries are redriven: another status would be ignored, not obeyed.
  if (filter.status && filter.status !== 'open')
    throw new BadRequest('status: only open entries are redriven')
  if (all) {
    if (Object.values(filter).some((value) => value !== undefined))
      throw new BadRequest('"all": true redrives every open entry: send it without a filter')
    return dlq.redriveWhere('all', by)
  }
  try {
    return await dlq.redriveWhere(filter, by)
  } catch (error) {
    if (error instanceof DlqFilterError)
      throw new BadRequest(`${error.message} (send { "all": true } to redrive every open entry)`)
    throw error
  }
}

/** The document generated from the route declarations, with the security schemes. */
export function openApiDocument(): Record<string, unknown> {
  const app = new OpenAPIHono()
  declareAll(app)
  return app.getOpenAPI31Document(documentInfo) as unknown as Record<string, unknown>
}

function declareAll(app: OpenAPIHono<AdminEnv> | OpenAPIHono) {
  for (const [name, scheme] of Object.entries(securitySchemes))
    app.openAPIRegistry.registerComponent('securitySchemes', name, scheme)
  for (const route of [
    ...Object.values(routes),
    ...Object.values(flowRoutes),
    ...Object.values(outerRoutes),
  ])
    app.openAPIRegistry.registerPath(route)
}

/** What the API adds to the service's records: actors' display names (`actorNames`). */
export interface AdminApiOptions {
  actorNames?: ActorNameCache
}

/** The admin API over `service`: answers one admitted call. */
export function adminApi(service: Service, options: AdminApiOptions = {}) {
  const app = new OpenAPIHono<AdminEnv>()
  declareAll(app)
  const document = app.getOpenAPI31Document(documentInfo) as unknown as Record<string, unknown>

  /** Serves `route` with `handler`, whose answers its response schemas type. */
  const serve = <R extends RouteConfig>(
    route: R,
    handler: (c: Context<AdminEnv>, call: Call) => Promise<RouteConfigToTypedResponse<R>>,
  ) => {
    const path = route.path.replaceAll(/\/{(.+?)}/g, '/:$1')
    app.on(route.method.toUpperCase(), path, (c) => handler(c, c.env.call))
  }

  serve(routes.dlqList, async (c, call) => {
    onlyFields(call.query, dlqListFields, 'query parameter')
    return c.json(await service.dlq.list(dlqFilter(call.query), page(call.query)), 200)
  })
  serve(routes.bulkRedrive, async (c, call) =>
    c.json(await bulkRedrive(service.dlq, await jsonBody(call.req), call.by), 200),
  )
  serve(routes.dlqEntry, async (c, call) => {
    const entryId = idOf(call)
    const entry = await service.dlq.get(entryId)
    return entry ? c.json(entry, 200) : c.json({ error: `no DLQ entry ${entryId}` }, 404)
  })
  for (const action of dlqActions) {
    serve(routes[action], async (c, call) => {
      const entryId = idOf(call)
      const body = await jsonBody(call.req)
      onlyFields(body, dlqActionFields[action], `field for ${action}`)
      let result
      if (action === 'redrive') result = await service.dlq.redrive(entryId, call.by)
      else if (action === 'discard') {
        const reason = text(body, 'reason', maxNoteLength)
        if (!reason?.trim()) throw new BadRequest('discard needs a reason: { "reason": "…" }')
        result = await service.dlq.discard(entryId, call.by, reason)
      } else result = await service.dlq.resolve(entryId, call.by, text(body, 'note', maxNoteLength))
      if (result.ok) return c.json({ entry: result.entry }, 200)
      // The code decides the status, never the reason's text.
      const error = { error: result.reason }
      return dlqRefusalStatus[result.code] === 404 ? c.json(error, 404) : c.json(error, 409)
    })
  }
  serve(routes.operations, async (c, call) => {
    onlyFields(call.query, operationListFields, 'query parameter')
    const status = text(call.query, 'status', 20)
    if (status && !operationStatuses.includes(status as OperationRecord['status']))
      throw new BadRequest(`status must be one of ${operationStatuses.join(', ')}`)
    const search = text(call.query, 'search', 200)
    const list = await listOperations(service.store, {
      search,
      status: status as OperationRecord['status'] | undefined,
      ...page(call.query),
    })
    const operations = await withActorNames(list.operations, options.actorNames)
    return c.json({ ...list, operations }, 200)
  })
  serve(routes.operation, async (c, call) => {
    const operationId = idOf(call)
    const operation = await service.store.operations.findOne({ _id: operationId })
    if (!operation) return c.json({ error: `no operation ${operationId}` }, 404)
    return c.json({ operation, events: await recordedEventsOf(service.store, operationId) }, 200)
  })
  serve(routes.chain, async (c, call) => {
    const operationId = idOf(call)
    const chain = await operationChain(service.store, operationId)
    if (!chain) return c.json({ error: `no operation ${operationId}` }, 404)
    const [named] = await withActorNames([chain], options.actorNames)
    return c.json(named!, 200)
  })
  serve(routes.event, async (c, call) => {
    const eventId = idOf(call)
    const event = await recordedEvent(service.store, eventId)
    return event ? c.json(event, 200) : c.json({ error: `no event ${eventId}` }, 404)
  })
  serve(routes.subjects, async (c) => c.json({ subjects: await subjectMap(service) }, 200))
  serve(routes.consumerGroups, async (c) =>
    c.json({ consumerGroups: await consumerGroupsWithDlq(service) }, 200),
  )
  serve(routes.openApi, async (c) => c.json(document, 200))

  // The flow of each subject: the graph for a window, and one subject's chain.
  serve(flowRoutes.flow, async (c, call) =>
    c.json(await flowGraph(service, flowWindow(call.query)), 200),
  )
  serve(flowRoutes.subjectChain, async (c, call) => {
    const subject = id(call.segments[2]!)
    return c.json(await subjectChain(service, subject, flowWindow(call.query)), 200)
  })

  app.notFound((c) => whyNoRoute(c.env.call))
  // Refusals and failures go back to the Node handler, which answers and logs them.
  app.onError((error) => {
    throw error
  })

  return {
    /** The call's answer. Only GET and POST name routes here (HEAD never did). */
    async answer(call: Call): Promise<Response> {
      if (call.method !== 'GET' && call.method !== 'POST') whyNoRoute(call)
      // The segments as sent, still percent-encoded: the routes decode and check ids themselves.
      const url = `http://admin/api/${call.segments.join('/')}`
      return app.fetch(new Request(url, { method: call.method }), { call })
    },
  }
}

export type AdminApi = ReturnType<typeof adminApi>
