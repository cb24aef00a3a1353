// event-driven new <name>: a new service from the boilerplate's service template.
import { relative } from 'node:path'
import { createNewService } from './scaffold/create.ts'
import { ScaffoldError } from './scaffold/names.ts'
import { parseCommand, type Io } from './settings.ts'

const usage = `usage: event-driven new <name> [--dir DIR] [--events Entity.verb,...] [--consumes Subject,...]

  <name>        lowercase letters, digits, dashes (billing, order-history)
  --events      subjects it publishes, each with a typed event and a GraphQL mutation
                (default: <Name>.recorded)
  --consumes    subjects it consumes, each with a handler and its test
  --dir DIR     its folder, from the current directory (the repo root under pnpm create-service).
                Default: boilerplate/<name> in this monorepo (wired into the blog service's
                gateway and main.ts); src/<name> in an app made with event-driven create
                (wired into its src/services.ts); ./<name> elsewhere (published package versions)
Nothing is written when a name or subject is refused, or the folder exists.`

export async function runNew(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      dir: { type: 'string' },
      events: { type: 'string', multiple: true },
      consumes: { type: 'string', multiple: true },
    },
    usage,
    io,
    1,
  )
  if (typeof parsed === 'number') return parsed
  const { values, positionals } = parsed
  if (positionals.length !== 1) {
    io.err(usage)
    return 2
  }
  try {
    const result = await createNewService({
      name: positionals[0]!,
      dir: values.dir,
      events: values.events,
      consumes: values.consumes,
      cwd: process.cwd(),
    })
    const where = relative(process.cwd(), result.dir) || '.'
    io.out(`created the ${result.names.name} service in ${where}:`)
    for (const file of result.files) io.out(`  ${file}`)
    for (const file of result.wired) io.out(`wired into ${relative(process.cwd(), file)}`)
    const mutations = result.names.publishes.map((e) => e.mutation).join(', ')
    io.out(
      {
        workspace: `next: pnpm install, then ./dev.sh start: the gateway serves ${mutations}`,
        app: `next: npm test, then npm start: the gateway serves ${mutations}`,
        standalone: `next: cd ${where} && npm install && npm test`,
      }[result.placement],
    )
    return 0
  } catch (error) {
    if (!(error instanceof ScaffoldError)) throw error
    io.err(error.message)
    return 1
  }
}
