import { ConfigurationError } from '@event-driven/core'
import { developmentWebhookSecret, webhookKey } from './webhook-signature.ts'

/** A webhook's name: lowercase letters, digits and dashes; its path is `/webhooks/<name>`. */
export const webhookNamePattern = /^[a-z][a-z0-9-]{0,49}$/

const envPrefix = 'WEBHOOK_SECRET_'

/** The variable that holds a webhook's secret: `WEBHOOK_SECRET_<NAME>` (dashes as `_`). */
export function webhookSecretEnvName(name: string): string {
  return `${envPrefix}${name.toUpperCase().replaceAll('-', '_')}`
}

/**
 * Every `WEBHOOK_SECRET_<NAME>` of the environment, by webhook name, each checked to be a
 * `whsec_` secret. Throws one error naming every variable that is not.
 */
export function webhookSecretsFromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const secrets: Record<string, string> = {}
  const problems: string[] = []
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith(envPrefix) || value === undefined || value === '') continue
    const name = variable.slice(envPrefix.length).toLowerCase().replaceAll('_', '-')
    try {
      webhookKey(value)
      secrets[name] = value
    } catch (error) {
      problems.push(`${variable}: ${(error as Error).message}`)
    }
  }
  if (problems.length > 0) throw new Error(problems.join('; '))
  return secrets
}

/** A webhook's secret, and whether it is the public development one. */
export interface WebhookSecret {
  secret: string
  developmentDefault: boolean
}

/**
 * The secret of webhook `name`: the configured one; in development (and only there) a public
 * development secret. Without either it throws: a webhook is never served unsigned.
 */
export function webhookSecretOf(
  config: { webhookSecrets?: Record<string, string>; development?: boolean },
  name: string,
): WebhookSecret {
  const configured = config.webhookSecrets?.[name]
  if (configured) {
    webhookKey(configured)
    return { secret: configured, developmentDefault: false }
  }
  if (config.development)
    return { secret: developmentWebhookSecret(name), developmentDefault: true }
  throw new ConfigurationError(
    `webhook ${name} has no secret: set ${webhookSecretEnvName(name)} (the secret its sender signs with), or NODE_ENV=development to use a development one`,
  )
}
