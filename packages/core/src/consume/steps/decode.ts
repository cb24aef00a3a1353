import { EventValidationError } from '../../errors.ts'
import { readEventData, type EventDefinition } from '../../event-definition.ts'
import type { RawDelivery } from '../../publish/wire.ts'
import { UnknownVersionError } from '../../version/upcast.ts'
import type { DeliveryStep } from '../delivery.ts'
import type { ReceivedEvent } from '../handler.ts'
import { next, refuse } from '../outcome.ts'

/** Input that no retry can fix. */
class BadInput extends Error {}

/**
 * The body becomes the event the handler sees: UTF-8, JSON, lifted from its version by the
 * definition's upcasters, valid against the schema. Anything else is bad input: to the DLQ on
 * the first delivery, with a reason that says exactly what is wrong, no retry wasted on it.
 */
export const decode: DeliveryStep = async (delivery, group) => {
  try {
    return next({ ...delivery, event: await receivedEvent(delivery.raw, group.definition) })
  } catch (error) {
    if (!(error instanceof BadInput || error instanceof EventValidationError)) throw error
    return refuse(delivery, error.message, true)
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

async function receivedEvent(
  raw: RawDelivery,
  definition: EventDefinition<string, unknown>,
): Promise<ReceivedEvent> {
  let text: string
  try {
    text = utf8.decode(raw.body)
  } catch {
    throw new BadInput(`the body is not UTF-8 text, so not JSON (${raw.body.length} bytes)`)
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    throw new BadInput(`the body is not JSON (${(error as Error).message}): ${text.slice(0, 200)}`)
  }
  // A message without a version header is taken as the current version.
  const publishedVersion = raw.version ?? definition.version
  let data: unknown
  try {
    data = await readEventData(definition, body, publishedVersion)
  } catch (error) {
    if (error instanceof UnknownVersionError) throw new BadInput(error.message)
    throw error
  }
  return {
    id: raw.eventId,
    subject: raw.subject,
    version: definition.version,
    publishedVersion,
    data,
    operationId: raw.operationId ?? raw.eventId,
    parentId: raw.parentId ?? raw.operationId ?? raw.eventId,
    createdAt: raw.createdAt ?? new Date(),
    ...(raw.redelivery ? { redelivery: raw.redelivery } : {}),
  }
}
