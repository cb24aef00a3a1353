import { signatureRefusal } from '../../publish/signature.ts'
import type { DeliveryStep } from '../delivery.ts'
import { next, refuse } from '../outcome.ts'

/**
 * Only what the framework signed is handled: anything else (a forged lineage, a recorded id with
 * other data) is kept in the DLQ as untrusted, never handled and never redriven.
 */
export const verifySignature: DeliveryStep = (delivery, group) => {
  const { raw } = delivery
  const check = group.signer.verify(raw.publishedSubject, raw.headers, raw.body)
  if (check === 'valid') return next(delivery)
  // Headers that cannot be read cannot be verified either: say what is wrong with them.
  return refuse(delivery, (!raw.headers && raw.problem) || signatureRefusal(check), false)
}
