// `event-driven add event|handler`: one piece more in a service made by `new`, in the shape the
// template gives it. Everything is checked and formatted before anything is written.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { subjectPattern } from '@event-driven/core'
import * as prettier from 'prettier'
import { ScaffoldError, serviceNames, type EventNames, type ServiceNames } from './names.ts'
import { findServiceFolder, type ServiceFolderOptions } from './service-folder.ts'
import {
  addImportedName,
  addImportLine,
  appendBlock,
  definesSubject,
  exportsName,
  insertBeforeRuntimeStart,
} from './source-edits.ts'
import { standaloneKit } from './standalone-kit.ts'
import { templateBlock, templateFile } from './template-pieces.ts'
import { writeAllOrNothing } from './write-all-or-nothing.ts'

export interface AddOptions extends ServiceFolderOptions {
  /** The event's subject, `<Entity>.<pastTenseVerb>` (`Invoice.paid`). */
  subject: string
}

export interface AddResult {
  /** The folder with the service's service.ts and events.ts. */
  folder: string
  /** The service's name, as its service.ts gives it to the runtime. */
  service: string
  /** The names derived from the subject: the definition's export, the handler. */
  event: EventNames
  /** Files written that were not there, relative to `folder`. */
  created: string[]
  /** Files rewritten, relative to `folder`. */
  changed: string[]
}

/** A service as `add` finds it: where, its names and the two modules it edits. */
interface FoundService {
  folder: string
  names: ServiceNames
  event: EventNames
  events: string
  service: string
}

/**
 * Adds the definition of `subject` to the service's events.ts, as `new --events` writes one: a
 * `defineEvent` at version 1 with a zod schema, its `<Event>Data` type and an `<Event>Example`.
 * Refuses a subject the service defines already.
 */
export async function addEvent(options: AddOptions): Promise<AddResult> {
  const found = await findService(options)
  if (definesSubject(found.events, found.event.subject)) {
    throw new ScaffoldError(
      `${join(found.folder, 'events.ts')} defines ${found.event.subject} already: nothing was written`,
    )
  }
  refuseNamesTaken(found)
  const block = templateBlock('src/events.ts', '@each publishes', found.names, found.event)
  return write(found, { 'events.ts': appendBlock(found.events, block) })
}

/**
 * Adds a handler of `subject` and its unit test under handlers/, registered in service.ts, as
 * `new --consumes` writes them; with the event's definition when events.ts lacks it (one that
 * accepts any data, as for an event of another service), and the store the template's handlers
 * keep their documents in (received.ts, its collection) when the service has none yet. Refuses
 * a subject the service handles already.
 */
export async function addHandler(options: AddOptions): Promise<AddResult> {
  const found = await findService(options)
  const { folder, names, event } = found
  const handler = templateFile('src/handlers/onInvoicePaid.ts', names, event)
  const test = templateFile('src/handlers/onInvoicePaid.unit.spec.ts', names, event)
  const ownPath = (path: string) => path.replace(/^src\//, '')
  const taken = [ownPath(handler.path), ownPath(test.path)].filter((path) =>
    existsSync(join(folder, path)),
  )
  if (taken.length > 0 || found.service.includes(`handler: '${event.handler}'`)) {
    throw new ScaffoldError(
      `the ${names.name} service handles ${event.subject} already (${taken.length > 0 ? taken.join(', ') : `${event.handler} in service.ts`}): nothing was written`,
    )
  }

  const files: Record<string, string> = {
    [ownPath(handler.path)]: handler.content,
    [ownPath(test.path)]: test.content,
  }
  if (definesSubject(found.events, event.subject)) {
    refuseDefinedOtherwise(found)
  } else {
    refuseNamesTaken(found)
    const block = templateBlock('src/events.ts', '@each consumesFromOthers', names, event)
    files['events.ts'] = appendBlock(found.events, block)
  }
  if (!existsSync(join(folder, 'received.ts'))) {
    files['received.ts'] = templateFile('src/received.ts', names, event).content
  }
  files['service.ts'] = serviceWithHandler(found)
  return write(found, files)
}

async function findService(options: AddOptions): Promise<FoundService> {
  if (!subjectPattern.test(options.subject)) {
    throw new ScaffoldError(
      `${JSON.stringify(options.subject)} is not <Entity>.<pastTenseVerb>, like Invoice.paid`,
    )
  }
  const folder = findServiceFolder(options)
  const servicePath = join(folder, 'service.ts')
  const service = await readFile(servicePath, 'utf8')
  // The name the runtime gets is the one its consumer groups carry: the handler's test uses it.
  const name = /createRuntime\(\s*['"]([^'"]*)['"]/.exec(service)?.[1]
  if (name === undefined) {
    throw new ScaffoldError(
      `${servicePath} has no createRuntime('<name>', …), as the services event-driven new makes have`,
    )
  }
  let names: ServiceNames
  try {
    names = serviceNames(name, { consumes: [options.subject] })
  } catch (error) {
    if (!(error instanceof ScaffoldError)) throw error
    throw new ScaffoldError(`${servicePath}: ${error.message}`)
  }
  return {
    folder,
    names,
    event: names.consumes[0]!,
    events: await readFile(join(folder, 'events.ts'), 'utf8'),
    service,
  }
}

/** The exports a definition brings: another subject of the same names would clash with them. */
const definitionExports = (event: EventNames) => [
  event.constant,
  `${event.constant}Data`,
  `${event.constant}Example`,
]

function refuseNamesTaken({ folder, events, event }: FoundService): void {
  const taken = definitionExports(event).filter((name) => exportsName(events, name))
  if (taken.length > 0) {
    throw new ScaffoldError(
      `${join(folder, 'events.ts')} exports ${taken.join(', ')} already, not for ${event.subject}: nothing was written`,
    )
  }
}

/** The handler and its test import the definition by its template names: they must be there. */
function refuseDefinedOtherwise({ folder, events, event }: FoundService): void {
  const missing = definitionExports(event).filter((name) => !exportsName(events, name))
  if (missing.length > 0) {
    throw new ScaffoldError(
      `${join(folder, 'events.ts')} defines ${event.subject} but does not export ${missing.join(', ')}, which the handler and its test import: nothing was written`,
    )
  }
}

/** service.ts with the handler imported and registered, and the received store if it lacks one. */
function serviceWithHandler({ folder, names, event, service }: FoundService): string {
  const block = (opening: string, containing: string) =>
    templateBlock('src/service.ts', opening, names, event, containing)
  let next = addImportedName(service, event.constant, './events.ts')
  next = addImportLine(next, block('@each consumes', "from './handlers/"), './handlers/')
  if (!/from\s*['"]\.\/received\.ts['"]/.test(next)) {
    next = addImportLine(next, block('@if consumes', "from './received.ts'"))
  }
  const store = /\bconst received\b/.test(next) ? [] : [block('@if consumes', 'const received')]
  const registration = block('@each consumes', 'runtime.core.on(')
  return insertBeforeRuntimeStart(
    next,
    [...store, registration].join('\n'),
    join(folder, 'service.ts'),
  )
}

/** Formats every file as `new` does, then writes them all or none. */
async function write(found: FoundService, files: Record<string, string>): Promise<AddResult> {
  // The service's own Prettier settings when it has some (in a monorepo), else those `new` used.
  const options =
    (await prettier.resolveConfig(join(found.folder, 'service.ts'))) ??
    (await standaloneKit()).prettier
  const out: Record<string, string> = {}
  for (const [path, content] of Object.entries(files)) {
    try {
      out[path] = await prettier.format(content, { ...options, filepath: join(found.folder, path) })
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0]
      throw new ScaffoldError(
        `${join(found.folder, path)} would not parse after the change (${reason}): nothing was written`,
      )
    }
  }
  const created = Object.keys(out).filter((path) => !existsSync(join(found.folder, path)))
  await writeAllOrNothing(found.folder, out)
  return {
    folder: found.folder,
    service: found.names.name,
    event: found.event,
    created,
    changed: Object.keys(out).filter((path) => !created.includes(path)),
  }
}
