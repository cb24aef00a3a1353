import type { IncomingMessage } from 'node:http'
import type { DlqFilter } from '../dlq/manage.ts'
import type { DlqStatus } from '../store/event-store.ts'
import { defaultFlowWindow, flowWindowNames, type FlowWindow } from '../observe/flow/windows.ts'

/**
 * What a request must be before a route serves it: the path as sent, its ids, its query and its
 * body. These answer 400 with the exact reason; the route declarations (`routes.ts`) document the
 * same limits for the OpenAPI document.
 */

// These two never leave the admin API (each becomes an answer), so they carry no error code.
/** A request that cannot be served as sent: answered 400 with the reason. */
export class BadRequest extends Error {}

/** A path that names no route: answered 404 with the reason. */
export class NoRoute extends Error {}

/** One authenticated API call: the path's segments after `/api/`, still percent-encoded. */
export interface Call {
  req: IncomingMessage
  method: string
  path: string
  segments: string[]
  query: Record<string, string>
  by: string
}

export const maxIdLength = 1024
export const maxFilterLength = 300
export const maxNoteLength = 10_000
export const dlqStatuses = ['open', 'redriven', 'discarded', 'resolved'] as const
export const operationStatuses = ['started', 'completed', 'failed'] as const

/** Text from outside, quoted and cut, for an error message or a log line. */
export function quoted(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text)
}

// `.`/`..` (plain or encoded) and `\` would be resolved away by URL parsing, so the path would
// name another route than the one sent.
const dotSegmentOrBackslash = /(^|\/)(\.|%2e){1,2}(\/|$)|\\/i

/** The segments after `/api/`, still percent-encoded so that an id may hold `/`. */
export function apiSegments(rawPath: string, pathname: string): string[] {
  if (dotSegmentOrBackslash.test(rawPath))
    throw new BadRequest(
      'the path has a . or .. segment or a backslash, which URLs resolve away: it would name another route',
    )
  // `//host/…` would be read as a host and a path.
  if (rawPath.startsWith('//'))
    throw new BadRequest('the path has an empty segment: an id is never empty')
  const segments = pathname.split('/').slice(1)
  if (segments.length > 1 && segments.at(-1) === '') segments.pop() // a trailing slash
  if (segments[0] !== 'api') throw new NoRoute(`no route ${pathname.slice(0, 200)}`)
  if (segments.includes(''))
    throw new BadRequest('the path has an empty segment: an id is never empty')
  return segments.slice(1)
}

/** An id from the path: any text of 1 to 1024 characters but NUL, percent-encoded. */
export function id(raw: string): string {
  let decoded: string
  try {
    decoded = decodeURIComponent(raw)
  } catch {
    throw new BadRequest(`malformed percent-encoding in the id ${quoted(raw)}`)
  }
  return checkedId(decoded)
}

/** An id as decoded (a path's, or a query's): refused when it holds NUL or is out of length. */
export function checkedId(decoded: string): string {
  if (decoded.includes('\u0000')) throw new BadRequest('ids never contain NUL')
  if (decoded.length === 0 || decoded.length > maxIdLength)
    throw new BadRequest(`an id has 1 to ${maxIdLength} characters, not ${decoded.length}`)
  return decoded
}

/** The query string's parameters, each given once: a repeated one would be half ignored. */
export function queryOf(params: URLSearchParams): Record<string, string> {
  const seen = new Set<string>()
  for (const name of params.keys()) {
    if (seen.has(name)) throw new BadRequest(`${quoted(name)} is given twice`)
    seen.add(name)
  }
  return Object.fromEntries(params)
}

/** Refuses any field outside `allowed`: an ignored filter field would widen the selection. */
export function onlyFields(
  source: Record<string, unknown>,
  allowed: readonly string[],
  kind: string,
) {
  const unknown = Object.keys(source).find((name) => !allowed.includes(name))
  if (unknown !== undefined)
    throw new BadRequest(
      `unknown ${kind} ${quoted(unknown)}: ${allowed.length ? `only ${allowed.join(', ')}` : 'none is taken'}`,
    )
}

/** A text field: absent when missing, null or empty; never NUL, which a server may refuse to store. */
export function text(
  source: Record<string, unknown>,
  name: string,
  maxLength: number,
): string | undefined {
  const value = source[name]
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value !== 'string') throw new BadRequest(`${name} must be a string`)
  if (value.length > maxLength)
    throw new BadRequest(`${name} is longer than ${maxLength} characters`)
  if (value.includes('\u0000')) throw new BadRequest(`${name} must not contain NUL`)
  return value
}

function date(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const parsed = new Date(value)
  if (Number.isNaN(parsed.getTime())) throw new BadRequest(`${name} is not a date: ${value}`)
  return parsed
}

function count(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  // Digits only: Number() would also take '', '1e2', '0x10' and ' 5 '.
  const n = /^\d{1,7}$/.test(value) ? Number(value) : Number.NaN
  if (!(n >= min && n <= max))
    throw new BadRequest(`${name} must be a whole number from ${min} to ${max}`)
  return n
}

/** A list's page: `limit`, and `before` (the page before's `next`) for keyset paging. */
export function page(query: Record<string, string>): {
  limit: number
  before: string | undefined
} {
  return {
    limit: count('limit', query.limit, 50, 1, 500),
    before: text(query, 'before', maxIdLength),
  }
}

export function dlqFilter(source: Record<string, unknown>): DlqFilter {
  const field = (name: string) => text(source, name, maxFilterLength)
  const status = field('status')
  if (status && !dlqStatuses.includes(status as DlqStatus))
    throw new BadRequest(`status must be one of ${dlqStatuses.join(', ')}`)
  return {
    service: field('service'),
    consumerGroup: field('consumerGroup'),
    subject: field('subject'),
    status: status as DlqStatus | undefined,
    eventId: field('eventId'),
    from: date('from', field('from')),
    to: date('to', field('to')),
  }
}

export async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > 64 * 1024) throw new BadRequest('the body is larger than 64 KiB')
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return {}
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new Error('not an object')
    return body as Record<string, unknown>
  } catch {
    throw new BadRequest('the body is not a JSON object')
  }
}

// The flow of each subject: `/api/flow` and `/api/flow/subjects/{subject}` take `window` only.

/** The flow's window: one of its names (`15m` … `24h`); absent or empty, the default (`1h`). */
export function flowWindow(query: Record<string, string>): FlowWindow {
  onlyFields(query, ['window'], 'query parameter')
  const window = text(query, 'window', 10)
  if (window === undefined) return defaultFlowWindow
  if (!(flowWindowNames as readonly string[]).includes(window))
    throw new BadRequest(`window must be one of ${flowWindowNames.join(', ')}`)
  return window as FlowWindow
}
