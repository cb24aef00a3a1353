// What the block in the docs assumes: the gateway's URL, a comment to moderate.
declare const gatewayUrl: string
declare const commentId: string

// #region
import { signedWebhookHeaders } from '@event-driven/service-kit'

const body = JSON.stringify({ commentId, verdict: 'approved' })
const response = await fetch(`${gatewayUrl}/webhooks/moderation`, {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    ...signedWebhookHeaders(process.env.WEBHOOK_SECRET_MODERATION!, `msg_${commentId}`, body),
  },
  body,
})
const { operationId } = (await response.json()) as { operationId: string }
// #endregion
export { operationId }
