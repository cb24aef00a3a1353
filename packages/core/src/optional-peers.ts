import { createRequire } from 'node:module'
import type * as S3 from '@aws-sdk/client-s3'
import type * as Slack from '@slack/webhook'
import type * as Prom from 'prom-client'
import type * as Otel from '@opentelemetry/api'
import { ConfigurationError } from './errors.ts'

// Loaded synchronously, when a feature that needs one is turned on: a service that does not
// archive or alert never loads (or needs installed) the S3 client or the Slack webhook, nor one
// without metrics prom-client, nor one without tracing the OpenTelemetry API.
const require = createRequire(import.meta.url)

function optionalPeer<T>(name: string, feature: string): T {
  try {
    return require(name) as T
  } catch (error) {
    const missing =
      (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
      (error as Error).message.includes(`'${name}'`)
    if (!missing) throw error
    throw new ConfigurationError(
      `${feature} needs the package ${name} (an optional peer dependency of @event-driven/core): npm install ${name}`,
    )
  }
}

/** `@aws-sdk/client-s3`, for the S3 archive and replays from it. */
export const s3Sdk = () => optionalPeer<typeof S3>('@aws-sdk/client-s3', 'The S3 archive')

/** `@slack/webhook`, for Slack alerts. */
export const slackSdk = () => optionalPeer<typeof Slack>('@slack/webhook', 'Slack alerts')

/** `prom-client`, for `prometheusMetrics()`. */
export const promClient = () => optionalPeer<typeof Prom>('prom-client', 'Prometheus metrics')

/** `@opentelemetry/api`, for `openTelemetryTracing()`. */
export const openTelemetryApi = () =>
  optionalPeer<typeof Otel>('@opentelemetry/api', 'OpenTelemetry tracing')
