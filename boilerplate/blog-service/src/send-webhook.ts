// Delivers one signed webhook to the gateway, as a sender would (Standard Webhooks headers):
//   node src/send-webhook.ts http://127.0.0.1:4000/webhooks/moderation \
//     '{"commentId":"<id>","verdict":"approved"}' [delivery-id]
// It signs with WEBHOOK_SECRET_<NAME> (the URL's last segment) when set, else with the
// development secret the gateway uses in development. The same delivery id sent again is
// answered with the first answer (`idempotent-replayed`).
import { randomUUID } from 'node:crypto'
import {
  developmentWebhookSecret,
  signedWebhookHeaders,
  webhookSecretEnvName,
} from '@event-driven/service-kit'

const [url, body, deliveryId = `msg_${randomUUID()}`] = process.argv.slice(2)
const name = url && URL.canParse(url) ? new URL(url).pathname.split('/').pop() : undefined
if (!url || !name || body === undefined) {
  process.stderr.write(
    'usage: node src/send-webhook.ts <webhook url> <json body> [delivery id]\n' +
      `  e.g. node src/send-webhook.ts http://127.0.0.1:4000/webhooks/moderation '{"commentId":"<id>","verdict":"approved"}'\n`,
  )
  process.exit(2)
}
const secret = process.env[webhookSecretEnvName(name)] || developmentWebhookSecret(name)
const response = await fetch(url, {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    ...signedWebhookHeaders(secret, deliveryId, body),
  },
  body,
})
const replayed = response.headers.get('idempotent-replayed') ? ' (replayed: sent before)' : ''
process.stdout.write(
  `delivery ${deliveryId}: ${response.status}${replayed}\n${await response.text()}\n`,
)
process.exitCode = response.ok ? 0 : 1
