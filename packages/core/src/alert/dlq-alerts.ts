import type { IncomingWebhookSendArguments } from '@slack/webhook'
import type { Logger } from 'pino'
import { slackSdk } from '../optional-peers.ts'
import { runEvery } from '../periodic.ts'
import type { AlertClaimRecord, EventStore, PendingAlertRecord } from '../store/event-store.ts'
import { isDuplicateKey } from '../store/insert-new.ts'
import { currentFormat, inCurrentFormat } from '../version/formats.ts'

/** Slack alerts for DLQ entries. Off when no webhook URL is given. */
export interface AlertOptions {
  /** Slack incoming-webhook URL. Default: `SLACK_WEBHOOK_URL`; absent means off. */
  slackWebhookUrl?: string
  /** Entries that arrive within this long of the first pending one go out as one message. Default 10 s. */
  windowMs?: number
  /** How long a sender keeps a batch before another instance may take it over. Default 60 s. */
  leaseMs?: number
  /** How often pending alerts are looked at. Default 1 s. */
  checkIntervalMs?: number
  /** First delay between failed webhook calls (doubling). Default 1 s. */
  retryBaseMs?: number
  /** Base URL of the dashboard, for links in the message. */
  dashboardUrl?: string
}

/**
 * How long a batch's claims are kept: far past its lease and its alerts' deletion, so an alert
 * recorded again (a DLQ write retried after the batch went out) still finds the batch was sent.
 * Retention removes them after that.
 */
export const alertClaimKeepMs = 7 * 24 * 3_600_000

/** One DLQ entry waiting to be announced. Deleted once its batch was sent. */
export function alertCollections(store: EventStore) {
  return { pending: store.dlqAlerts, claims: store.dlqAlertClaims }
}

/** Records that a DLQ entry needs announcing: one insert, on the DLQ path only. */
export async function recordPendingAlert(
  store: EventStore,
  alert: PendingAlertRecord,
): Promise<void> {
  try {
    await alertCollections(store).pending.insertOne(inCurrentFormat(alert))
  } catch (error) {
    if (!isDuplicateKey(error)) throw error
  }
}

/**
 * The dashboard's DLQ page filtered to one consumer group and subject. The dashboard routes by
 * the hash (`#/dlq?…`), so the filters go after it: a path (`/dlq`) would open its first page.
 */
export function dlqLink(
  dashboardUrl: string,
  entries: Pick<PendingAlertRecord, 'consumerGroup' | 'subject'>,
): string {
  const query = new URLSearchParams({
    consumerGroup: entries.consumerGroup,
    subject: entries.subject,
  })
  return `${dashboardUrl.replace(/\/+$/, '')}/#/dlq?${query.toString()}`
}

/** Slack's mrkdwn takes `&`, `<` and `>` escaped, in a link's URL too. */
const slackEscape = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')

/** The Slack message for one batch: per (service, consumer group, subject), how many, the first error, what to do. */
export function alertMessage(
  alerts: PendingAlertRecord[],
  dashboardUrl?: string,
): IncomingWebhookSendArguments {
  const groups = new Map<string, PendingAlertRecord[]>()
  for (const alert of alerts) {
    const key = `${alert.service}\n${alert.consumerGroup}\n${alert.subject}`
    groups.set(key, [...(groups.get(key) ?? []), alert])
  }
  const text = `${alerts.length} event${alerts.length === 1 ? '' : 's'} moved to the dead letter queue`
  return {
    text,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: `:rotating_light: ${text}` } },
      ...[...groups.values()].flatMap(([first, ...rest]) => {
        const count = rest.length + 1
        const link = dashboardUrl
          ? ` · <${slackEscape(dlqLink(dashboardUrl, first!))}|open in the dashboard>`
          : ''
        return [
          {
            type: 'section',
            text: {
              type: 'mrkdwn',
              text: `*${first!.service}* · consumer group \`${first!.consumerGroup}\` · \`${first!.subject}\`: *${count}* ${count === 1 ? 'entry' : 'entries'}\nFirst error: \`\`\`${first!.error.slice(0, 500)}\`\`\``,
            },
          },
          {
            type: 'context',
            elements: [
              {
                type: 'mrkdwn',
                text: `Inspect: \`event-driven dlq list --consumer-group ${first!.consumerGroup}\` · Redrive after the fix: \`event-driven dlq redrive --consumer-group ${first!.consumerGroup}\`${link}`,
              },
            ],
          },
        ]
      }),
    ],
  }
}

/**
 * Announces DLQ entries on Slack, one message per burst, once across instances: each instance
 * looks at pending alerts; when the oldest is `windowMs` old, the batch (everything pending that
 * arrived within the window) is claimed by an insert and sent, with retries and backoff. A claim
 * whose sender died expires after `leaseMs`, and the batch is claimed again: no alert is lost.
 * Returns a stop function; it never blocks or fails event handling.
 */
export function startDlqAlerts(
  store: EventStore,
  options: AlertOptions,
  logger: Logger,
): () => Promise<void> {
  const url = options.slackWebhookUrl
  if (!url) {
    logger.info('Slack alerts are off: SLACK_WEBHOOK_URL is not set')
    return () => Promise.resolve()
  }
  const windowMs = options.windowMs ?? 10_000
  const leaseMs = options.leaseMs ?? 60_000
  const retryBaseMs = options.retryBaseMs ?? 1_000
  const webhook = new (slackSdk().IncomingWebhook)(url)
  const { pending, claims } = alertCollections(store)
  let stopped = false

  const sendWithRetries = async (message: IncomingWebhookSendArguments, deadline: number) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await webhook.send(message)
        return true
      } catch (error) {
        const delay = retryBaseMs * 2 ** (attempt - 1)
        logger.warn(
          { err: error, attempt },
          `Slack webhook failed (attempt ${attempt}); retrying in ${delay} ms`,
        )
        if (stopped || Date.now() + delay > deadline) return false
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
  }

  const checkOnce = async () => {
    const waiting = await pending.find().sort({ createdAt: 1 }).limit(1_000).toArray()
    const first = waiting[0]
    if (!first || Date.now() < first.createdAt.getTime() + windowMs) return
    const batch = waiting.filter(
      (a) => a.createdAt.getTime() < first.createdAt.getTime() + windowMs,
    )
    const earlier = await claims.find({ batch: first._id }).toArray()
    const finish = () => pending.deleteMany({ _id: { $in: batch.map((a) => a._id) } })
    if (earlier.some((c) => c.sentAt)) return void (await finish()) // sent, then the sender died
    if (earlier.some((c) => c.claimedAt.getTime() > Date.now() - leaseMs)) return // someone is on it
    const claimedAt = new Date()
    const claim: AlertClaimRecord = {
      _id: `${first._id}#${nextClaimNumber(earlier)}`,
      format: currentFormat,
      batch: first._id,
      claimedAt,
      expireAt: new Date(claimedAt.getTime() + alertClaimKeepMs),
    }
    try {
      await claims.insertOne(claim)
    } catch (error) {
      if (isDuplicateKey(error)) return // another instance won
      throw error
    }
    if (
      await sendWithRetries(
        alertMessage(batch, options.dashboardUrl),
        claim.claimedAt.getTime() + leaseMs * 0.8,
      )
    ) {
      await claims.updateOne({ _id: claim._id }, { $set: { sentAt: new Date() } })
      await finish()
      logger.info({ entries: batch.length }, 'Slack alert sent for DLQ entries')
    } else {
      logger.error(
        { entries: batch.length },
        'Slack alert not sent yet; it stays pending and is tried again',
      )
    }
  }

  const stopChecking = runEvery(options.checkIntervalMs ?? 1_000, checkOnce, (error) =>
    logger.warn({ err: error }, 'could not check pending Slack alerts'),
  )
  return async () => {
    stopped = true // ends a retry loop in progress early
    await stopChecking()
  }
}

/**
 * The number of a batch's next claim: one more than its highest, not than how many there are, so
 * a claim removed by retention never makes the next one collide with a claim that is left.
 */
export function nextClaimNumber(claims: readonly Pick<AlertClaimRecord, '_id'>[]): number {
  const numbers = claims.map((c) => Number(c._id.slice(c._id.lastIndexOf('#') + 1)) || 0)
  return Math.max(0, ...numbers) + 1
}
