import {
  otherGraphqlLabel,
  type GatewayMetrics,
  type GraphqlRequest,
  type ServiceMetrics,
} from '@event-driven/core'
import {
  getOperationAST,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql'
import type { Plugin } from 'graphql-yoga'
import type { Logger } from 'pino'

// Our own plugin rather than @graphql-yoga/plugin-prometheus (6.19, with @envelop/prometheus
// and @envelop/on-resolve): that one labels with `operationName`, which the client chooses (one
// series per name a client sends, without end), its HTTP histogram with the full URL, and serves
// its own /metrics on the public port unless told not to. Bounding it means replacing every
// metric's label function: more code than this file, and metric names outside ours.

/** The root field names of each operation type, from the schema: the only labels allowed. */
type RootFields = Record<'query' | 'mutation' | 'subscription', ReadonlySet<string>>

export function rootFieldsOf(schema: GraphQLSchema): RootFields {
  const names = (type: GraphQLObjectType | null | undefined) =>
    new Set(type ? Object.keys(type.getFields()) : [])
  return {
    query: names(schema.getQueryType()),
    mutation: names(schema.getMutationType()),
    subscription: names(schema.getSubscriptionType()),
  }
}

/**
 * The labels of a request: the type of the operation it runs and that operation's first root
 * field, when the schema has it; `other` for anything else (an unparsable document, an unknown
 * operation name, a field the schema lacks, `__typename`). Nothing a client sends becomes a
 * label value unless the schema holds the same name: `operationName` only picks the operation.
 */
export function requestLabels(
  document: DocumentNode | undefined,
  operationName: string | null | undefined,
  rootFields: RootFields,
): Pick<GraphqlRequest, 'operationType' | 'rootField'> {
  const operation = document && getOperationAST(document, operationName)
  if (!operation) return { operationType: otherGraphqlLabel, rootField: otherGraphqlLabel }
  const field = firstField(operation.selectionSet, document)
  const known = field !== undefined && rootFields[operation.operation].has(field)
  return { operationType: operation.operation, rootField: known ? field : otherGraphqlLabel }
}

/** The first field selected, through inline fragments and fragment spreads (each once). */
function firstField(set: SelectionSetNode, document: DocumentNode): string | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>()
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition)
  // Each spread is followed once: a document that failed validation may hold a cycle.
  const visited = new Set<string>()
  const visit = (selections: SelectionSetNode): string | undefined => {
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD) return selection.name.value
      let inner: SelectionSetNode | undefined = undefined
      if (selection.kind === Kind.INLINE_FRAGMENT) inner = selection.selectionSet
      else if (!visited.has(selection.name.value)) {
        visited.add(selection.name.value)
        inner = fragments.get(selection.name.value)?.selectionSet
      }
      const found = inner && visit(inner)
      if (found !== undefined) return found
    }
    return undefined
  }
  return visit(set)
}

/** The process's metrics, when they take the gateway's requests (`prometheusMetrics()` does). */
export function gatewayMetricsOf(
  metrics: ServiceMetrics | GatewayMetrics | undefined,
): GatewayMetrics | undefined {
  return metrics && typeof (metrics as Partial<GatewayMetrics>).graphqlRequest === 'function'
    ? (metrics as GatewayMetrics)
    : undefined
}

/**
 * A yoga plugin that reports each GraphQL operation: timed from its parameters to its result,
 * labelled with `requestLabels`, outcome `error` when the result carries errors. A request yoga
 * refuses before reading parameters (unsupported media type, malformed body) is not reported.
 * An observer that throws is logged once and ignored: it never changes an answer.
 */
export function gatewayMetricsPlugin(metrics: GatewayMetrics, logger: Logger): Plugin {
  // Until yoga gives the schema (at its start), nothing but `other`.
  let rootFields: RootFields = { query: new Set(), mutation: new Set(), subscription: new Set() }
  // By the request's context: yoga gives each operation (each of a batch) its own.
  const running = new WeakMap<object, { startedAt: number; document?: DocumentNode }>()
  let logged = false
  const report = (request: GraphqlRequest) => {
    try {
      metrics.graphqlRequest(request)
    } catch (error) {
      if (logged) return
      logged = true
      logger.error({ err: error }, 'the gateway metrics observer threw: its figures are incomplete')
    }
  }
  return {
    // envelop types both as `any`: yoga's schema, and what its parse returned.
    onSchemaChange({ schema }) {
      rootFields = rootFieldsOf(schema as GraphQLSchema)
    },
    onParams({ context }) {
      running.set(context, { startedAt: performance.now() })
    },
    onParse({ context }) {
      return ({ result }) => {
        const request = running.get(context)
        const parsed = result as DocumentNode | Error | null
        if (request && parsed && !(parsed instanceof Error)) request.document = parsed
      }
    },
    onExecutionResult({ context, result }) {
      const request = running.get(context)
      if (!request) return
      running.delete(context)
      const failed =
        result === undefined ||
        (!(Symbol.asyncIterator in result) && (result.errors?.length ?? 0) > 0)
      report({
        ...requestLabels(request.document, context.params?.operationName, rootFields),
        outcome: failed ? 'error' : 'ok',
        durationMs: performance.now() - request.startedAt,
      })
    },
  }
}
