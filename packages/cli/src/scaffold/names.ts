// Names a new service is made of, derived once from what the user typed, and checked with the
// core's own patterns.
import { serviceNamePattern, subjectPattern } from '@event-driven/core'

/** The parts of the blog service and of the runner: a new service cannot take these names. */
export const reservedNames = ['users', 'blogs', 'comments', 'gateway', 'admin']

export interface EventNames {
  subject: string
  /** `InvoiceIssued`: the definition's export. */
  constant: string
  /** `invoiceId`: the id field of the event's data. */
  idField: string
  /** `recordInvoiceIssued`: the mutation (and RPC method) that publishes it. */
  mutation: string
  /** `onInvoiceIssued`: the handler (and consumer group) that consumes it. */
  handler: string
}

export interface ServiceNames {
  /** `billing-reports`: the service, its consumer groups' prefix, database, RPC subjects. */
  name: string
  /** `billingReports`: the exported module. */
  camel: string
  /** `BillingReports`. */
  pascal: string
  /** `billing-reports-service`: the package. */
  packageName: string
  publishes: EventNames[]
  consumes: EventNames[]
}

/** A name or subject that cannot be used: nothing is written. */
export class ScaffoldError extends Error {
  override name = 'ScaffoldError'
}

function pascal(text: string): string {
  return text
    .split(/[-.]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')
}

function eventNames(subject: string): EventNames {
  const constant = pascal(subject)
  const entity = subject.split('.')[0]!
  return {
    subject,
    constant,
    idField: `${entity.charAt(0).toLowerCase()}${entity.slice(1)}Id`,
    mutation: `record${constant}`,
    handler: `on${constant}`,
  }
}

function parseSubjects(list: readonly string[], flag: string): string[] {
  const subjects = list
    .flatMap((item) => item.split(','))
    .map((s) => s.trim())
    .filter(Boolean)
  const bad = subjects.filter((s) => !subjectPattern.test(s))
  if (bad.length > 0) {
    throw new ScaffoldError(
      `${flag}: ${bad.map((s) => `"${s}"`).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not <Entity>.<pastTenseVerb>, like Invoice.issued`,
    )
  }
  const twice = subjects.filter((s, i) => subjects.indexOf(s) !== i)
  if (twice.length > 0) throw new ScaffoldError(`${flag}: ${twice[0]} is given twice`)
  return subjects
}

/**
 * Checks the service name and the subjects, and derives every name the files use. With no
 * `--events`, the service publishes `<Name>.recorded`.
 */
export function serviceNames(
  name: string,
  options: { events?: readonly string[]; consumes?: readonly string[] },
): ServiceNames {
  if (!serviceNamePattern.test(name)) {
    throw new ScaffoldError(
      `"${name}" is not a service name: use lowercase letters, digits and dashes, starting with a letter (like billing or order-history)`,
    )
  }
  if (reservedNames.includes(name)) {
    throw new ScaffoldError(`"${name}" is taken by the blog service; choose another name`)
  }
  const base = pascal(name)
  const publishes = parseSubjects(options.events ?? [], '--events')
  const consumes = parseSubjects(options.consumes ?? [], '--consumes')
  return {
    name,
    camel: `${base.charAt(0).toLowerCase()}${base.slice(1)}`,
    pascal: base,
    packageName: `${name}-service`,
    publishes: (publishes.length > 0 ? publishes : [`${base}.recorded`]).map(eventNames),
    consumes: consumes.map(eventNames),
  }
}
