// event-driven add event|handler <Entity.verb>: one piece more in a service made by `new`.
import { relative } from 'node:path'
import { addEvent, addHandler } from './scaffold/add.ts'
import { ScaffoldError } from './scaffold/names.ts'
import { parseCommand, type Io } from './settings.ts'

const usage = `usage: event-driven add event|handler <Entity.verb> [--service NAME | --dir DIR]

  event <Entity.verb>     its definition in events.ts: defineEvent at version 1, a zod schema,
                          its <Event>Data type and an <Event>Example
  handler <Entity.verb>   handlers/on<Event>.ts and its unit test, registered in service.ts; also
                          the event's definition and the store handlers keep their documents in
                          (received.ts), when the service has none yet
  --dir DIR               the service's folder: its package (with src/service.ts) or its folder
                          in an app (with service.ts, events.ts, handlers/)
  --service NAME          ./src/NAME under the current directory, else boilerplate/NAME in this
                          monorepo
Default: the current directory, when it is a service's package.
Nothing is written when the subject is refused or taken, or no service is found.`

export async function runAdd(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(
    argv,
    { dir: { type: 'string' }, service: { type: 'string' } },
    usage,
    io,
    2,
  )
  if (typeof parsed === 'number') return parsed
  const { values, positionals } = parsed
  const [piece, subject] = positionals
  const add = piece === 'event' ? addEvent : piece === 'handler' ? addHandler : undefined
  if (!add || subject === undefined) {
    io.err(usage)
    return 2
  }
  if (values.dir !== undefined && values.service !== undefined) {
    io.err(`give --dir or --service, not both\n\n${usage}`)
    return 2
  }
  try {
    const result = await add({
      subject,
      dir: values.dir,
      service: values.service,
      cwd: process.cwd(),
    })
    const where = relative(process.cwd(), result.folder) || '.'
    io.out(
      `added the ${piece} ${result.event.subject} to the ${result.service} service in ${where}:`,
    )
    for (const file of result.created) io.out(`  created ${file}`)
    for (const file of result.changed) io.out(`  changed ${file}`)
    io.out(
      piece === 'event'
        ? `next: publish it in an operation: op.publish(${result.event.constant}, data)`
        : `next: give ${result.event.handler} its effect, and run its test (vitest run ${result.event.handler})`,
    )
    return 0
  } catch (error) {
    if (!(error instanceof ScaffoldError)) throw error
    io.err(error.message)
    return 1
  }
}
