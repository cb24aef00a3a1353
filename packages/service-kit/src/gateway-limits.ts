import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor'
import {
  Kind,
  OperationTypeNode,
  type ASTVisitor,
  type GraphQLError,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql'
import { createGraphQLError, type Plugin } from 'graphql-yoga'
import type { Logger } from 'pino'

/**
 * What one GraphQL request may ask of the gateway. Each limit is checked before any service is
 * called: the body's size before it is read, tokens while parsing, the rest by validation. A
 * request over one is refused with its own code (`gatewayLimitCodes`) and logged, limit and
 * measured value, never the query.
 */
export interface GatewayLimits {
  /** Aliases in one operation (`a: userLogin(…) b: userLogin(…)`): each is one more call. */
  maxAliases: number
  /** Depth of nested selections (`operation { events { failures { consumerGroup } } }` is 4). */
  maxDepth: number
  /** GraphQL Armor's cost: 2 per object field, 1 per scalar, times 1.5 per level of nesting. */
  maxCost: number
  /** Tokens of the query text: bounds parsing and validation work before either starts. */
  maxTokens: number
  /** Directives (`@include`, `@skip`, …) in one operation. */
  maxDirectives: number
  /**
   * Mutation fields in one request: each is an operation (its own id, its own service call).
   * Aliases alone do not bound them: fifteen aliases plus each mutation once is still many.
   */
  maxMutations: number
  /**
   * Bytes of a request body, refused from its `Content-Length` before it is read (or as soon as
   * a body without one passes it). Set above NATS's max payload (1 MiB by default) so that a
   * large argument meets the gateway's exact check before NATS (`PAYLOAD_TOO_LARGE` with the
   * operation id); raise it with NATS's `max_payload`.
   */
  maxBodyBytes: number
}

/**
 * Defaults: generous for every query of the blog service (its deepest, `operation(id)` with
 * events and failures, is depth 4 and costs about 39; none uses an alias or a directive, none sends
 * more than one mutation), small enough that one request is a bounded amount of work.
 */
export const defaultGatewayLimits: Readonly<GatewayLimits> = Object.freeze({
  maxAliases: 15,
  maxDepth: 10,
  maxCost: 1_000,
  maxTokens: 1_000,
  maxDirectives: 10,
  maxMutations: 5,
  maxBodyBytes: 2 * 1024 * 1024,
})

/** The code of the error that refuses a request over each limit (in `extensions.code`). */
export const gatewayLimitCodes = Object.freeze({
  maxAliases: 'TOO_MANY_ALIASES',
  maxDepth: 'QUERY_TOO_DEEP',
  maxCost: 'QUERY_TOO_COSTLY',
  maxTokens: 'TOO_MANY_TOKENS',
  maxDirectives: 'TOO_MANY_DIRECTIVES',
  maxMutations: 'TOO_MANY_MUTATIONS',
  maxBodyBytes: 'PAYLOAD_TOO_LARGE',
} as const satisfies Record<keyof GatewayLimits, string>)

/** The environment variable that sets each limit. */
export const gatewayLimitEnvNames = Object.freeze({
  maxAliases: 'GATEWAY_MAX_ALIASES',
  maxDepth: 'GATEWAY_MAX_DEPTH',
  maxCost: 'GATEWAY_MAX_COST',
  maxTokens: 'GATEWAY_MAX_TOKENS',
  maxDirectives: 'GATEWAY_MAX_DIRECTIVES',
  maxMutations: 'GATEWAY_MAX_MUTATIONS',
  maxBodyBytes: 'GATEWAY_MAX_BODY_BYTES',
} as const satisfies Record<keyof GatewayLimits, string>)

/** Limits where 0 means "none allowed"; the others must be at least 1 to serve anything. */
const zeroAllowed: ReadonlySet<keyof GatewayLimits> = new Set(['maxAliases', 'maxDirectives'])

const limitNames = Object.keys(defaultGatewayLimits) as (keyof GatewayLimits)[]

/**
 * The limits set in `env` (`GATEWAY_MAX_*`), the defaults for the rest. A value that is not a
 * whole number (or is 0 where that would refuse every request) throws, naming the variable.
 */
export function gatewayLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayLimits {
  const limits = { ...defaultGatewayLimits }
  for (const key of limitNames) {
    const name = gatewayLimitEnvNames[key]
    const text = env[name]?.trim()
    if (text === undefined || text === '') continue
    const value = Number(text)
    const min = zeroAllowed.has(key) ? 0 : 1
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min)
      throw new Error(
        `${name} must be a whole number ${min === 0 ? '(0 or more)' : 'of 1 or more'}, got "${env[name]}"`,
      )
    limits[key] = value
  }
  return limits
}

/** The limits given, the defaults for the rest. */
export function gatewayLimits(given: Partial<GatewayLimits> = {}): GatewayLimits {
  const limits = { ...defaultGatewayLimits }
  for (const key of limitNames) if (given[key] !== undefined) limits[key] = given[key]
  return limits
}

/**
 * The refusal of a request over `key`'s limit: a GraphQL error with its code and the limit. Made
 * by graphql-yoga's `createGraphQLError`, so it is of yoga's copy of graphql (which may not be
 * this file's, in a test runner) and yoga keeps `http` out of the answer.
 */
function limitError(key: keyof GatewayLimits, message: string, limit: number, measured?: number) {
  return createGraphQLError(message, {
    extensions: {
      code: gatewayLimitCodes[key],
      limit,
      ...(measured === undefined ? {} : { measured }),
      // As graphql-yoga answers other invalid requests: 400 where the client accepts it.
      http: { status: key === 'maxBodyBytes' ? 413 : 400, spec: key !== 'maxBodyBytes' },
    },
  })
}

/** How each Armor limit is said to the caller, given the limit and the value found. */
const armorMessages = {
  maxAliases: (n: number, found?: number) =>
    `the query has ${found} aliases; the gateway allows at most ${n}`,
  maxDepth: (n: number, found?: number) =>
    `the query is nested ${found} levels deep; the gateway allows at most ${n}`,
  maxCost: (n: number, found?: number) =>
    `the query costs ${found}; the gateway allows at most ${n} (2 per object field, 1 per scalar, times 1.5 per level)`,
  maxDirectives: (n: number, found?: number) =>
    `the query has ${found} directives; the gateway allows at most ${n}`,
  maxTokens: (n: number) => `the query has more than ${n} tokens; the gateway allows at most ${n}`,
} satisfies Partial<Record<keyof GatewayLimits, (n: number, found?: number) => string>>

/**
 * GraphQL Armor's callbacks for one limit: its own refusal (code, limit, the value Armor measured)
 * instead of Armor's "Syntax Error: …" without a code. Validation limits report their error, so
 * the others still run; the token limit has no validation context and throws from the parser.
 */
function armorRefusal(key: keyof typeof armorMessages, n: number) {
  return {
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) => {
        const found = Number(/found (\S+?)\.?$/.exec(error.message)?.[1] ?? Number.NaN)
        const measured = Number.isFinite(found) ? found : undefined
        const refusal = limitError(key, armorMessages[key](n, measured), n, measured)
        if (!context) throw refusal
        context.reportError(refusal)
      },
    ],
  }
}

/**
 * Refuses a mutation request with more than `limit` mutation fields: each is an operation, run
 * one after the other. Fields are counted by response key (fields of one key run once), through
 * fragments at the top level.
 */
export function maxMutationsRule(limit: number) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      if (operation.operation !== OperationTypeNode.MUTATION) return
      const keys = new Set<string>()
      const seen = new Set<string>()
      const collect = (set: SelectionSetNode) => {
        for (const selection of set.selections) {
          if (selection.kind === Kind.FIELD) {
            if (selection.name.value !== '__typename')
              keys.add(selection.alias?.value ?? selection.name.value)
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            collect(selection.selectionSet)
          } else if (!seen.has(selection.name.value)) {
            seen.add(selection.name.value)
            const fragment = context.getFragment(selection.name.value)
            if (fragment) collect(fragment.selectionSet)
          }
        }
      }
      collect(operation.selectionSet)
      if (keys.size > limit)
        context.reportError(
          limitError(
            'maxMutations',
            `the request has ${keys.size} mutations; the gateway runs at most ${limit} in one request: send the others in their own requests`,
            limit,
            keys.size,
          ),
        )
    },
  })
}

const limitCodes = new Set<string>(Object.values(gatewayLimitCodes))

/**
 * The yoga plugins and options that enforce `limits` (defaults for those not given), and log each
 * refusal (warn: the code, the limit, the measured value; never the query).
 *
 * Every refusal is logged where the answer is made, so a refusal graphql-yoga answers from its
 * parse and validation caches (the same query sent again) is logged too. The body limit is
 * graphql-yoga's own (`maxRequestBodySize`: `Content-Length` checked before the body is read, a
 * body without one counted as it streams); its refusal gets the gateway's code here.
 */
export function gatewayLimitOptions(
  given: Partial<GatewayLimits> | undefined,
  logger: Logger,
): { plugins: Plugin[]; maxRequestBodySize: number } {
  const limits = gatewayLimits(given)
  const bodyRefusal = (request: Request) => {
    const length = Number(request.headers.get('content-length') ?? Number.NaN)
    const measured = Number.isSafeInteger(length) ? length : undefined
    return limitError(
      'maxBodyBytes',
      `the request body is ${measured === undefined ? 'larger than' : `${measured} bytes; the gateway accepts at most`} ${limits.maxBodyBytes} bytes`,
      limits.maxBodyBytes,
      measured,
    )
  }
  const refusals: Plugin = {
    onResultProcess(payload) {
      const { request, result } = payload
      if (Array.isArray(result) || !('errors' in result) || !result.errors?.length) return
      let errors = result.errors
      if (errors.some((error) => error.extensions?.code === 'REQUEST_ENTITY_TOO_LARGE')) {
        errors = errors.map((error) =>
          error.extensions?.code === 'REQUEST_ENTITY_TOO_LARGE' ? bodyRefusal(request) : error,
        )
        payload.setResult({ ...result, errors })
      }
      for (const error of errors) {
        const { code, limit, measured } = error.extensions ?? {}
        // Only the gateway's refusals carry `limit` (a service's PAYLOAD_TOO_LARGE is logged by rpc).
        if (typeof code === 'string' && limitCodes.has(code) && typeof limit === 'number')
          logger.warn({ code, limit, measured }, 'refused a GraphQL request over a gateway limit')
      }
    },
  }
  return {
    plugins: [
      EnvelopArmorPlugin({
        maxAliases: { n: limits.maxAliases, ...armorRefusal('maxAliases', limits.maxAliases) },
        maxDepth: { n: limits.maxDepth, ...armorRefusal('maxDepth', limits.maxDepth) },
        costLimit: { maxCost: limits.maxCost, ...armorRefusal('maxCost', limits.maxCost) },
        maxTokens: { n: limits.maxTokens, ...armorRefusal('maxTokens', limits.maxTokens) },
        maxDirectives: {
          n: limits.maxDirectives,
          ...armorRefusal('maxDirectives', limits.maxDirectives),
        },
        // Hiding "Did you mean …?" hides nothing while introspection is on; it helps callers.
        blockFieldSuggestion: { enabled: false },
      }),
      {
        onValidate: ({ addValidationRule }) =>
          addValidationRule(maxMutationsRule(limits.maxMutations)),
      },
      refusals,
    ],
    maxRequestBodySize: limits.maxBodyBytes,
  }
}
