import { readTraceContext, traceHeaders, type ServiceTracing } from '@event-driven/core'
import type { DocumentNode, ExecutionResult, GraphQLSchema } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { requestLabels, rootFieldsOf } from './gateway-metrics.ts'

/** What the plugin adds to a request's GraphQL context: its trace id, for log lines. */
export interface TracedContext {
  traceId?: string
}

/**
 * A span per GraphQL execution, the parent of the request-reply calls its resolvers make (they
 * run with it current). It belongs to the span current where the request is handled (an HTTP
 * instrumentation's), else to the `traceparent` the request carried, else starts a trace. Named
 * `<operation type> <root field>` from the schema (`other` for anything it lacks), so names stay
 * bounded; the client's `operationName` is an attribute, cut to 100 characters.
 */
export function gatewayTracingPlugin(tracing: ServiceTracing): Plugin<TracedContext> {
  let rootFields: ReturnType<typeof rootFieldsOf> | undefined
  return {
    // envelop types these as `any`: yoga's schema, the parsed document, the operation name.
    onSchemaChange({ schema }) {
      rootFields = rootFieldsOf(schema as GraphQLSchema)
    },
    onExecute({ args, setExecuteFn, executeFn, extendContext }) {
      rootFields ??= rootFieldsOf(args.schema as GraphQLSchema)
      const operationName = args.operationName as string | null | undefined
      const { operationType, rootField } = requestLabels(
        args.document as DocumentNode,
        operationName,
        rootFields,
      )
      const request = (args.contextValue as { request?: Request }).request
      const incoming = request
        ? readTraceContext(
            request.headers.get(traceHeaders.traceparent),
            request.headers.get(traceHeaders.tracestate),
          )
        : undefined
      const span = tracing.start({
        name: `${operationType} ${rootField}`,
        kind: 'server',
        parent: 'active',
        ...(incoming ? { incoming } : {}),
        attributes: {
          'graphql.operation.type': operationType,
          ...(operationName ? { 'graphql.operation.name': operationName.slice(0, 100) } : {}),
        },
      })
      if (span.traceId) extendContext({ traceId: span.traceId } satisfies TracedContext)
      const execute = executeFn as (execution: unknown) => Promise<unknown>
      setExecuteFn((execution) => span.within(() => execute(execution)))
      return {
        onExecuteDone({ result }) {
          const errors = (result as ExecutionResult).errors
          span.end(errors?.length ? errors[0]!.message : undefined)
        },
      }
    },
  }
}
