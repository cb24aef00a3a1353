// event-driven create <name> [--minimal]: a new app, the path `npm create event-driven` takes.
import { relative } from 'node:path'
import { createApp } from './scaffold/app.ts'
import { ScaffoldError } from './scaffold/names.ts'
import { parseCommand, type Io } from './settings.ts'

const usage = `usage: event-driven create <name> [--minimal] [--dir DIR]
       npm create event-driven@latest <name> [-- --minimal]

  <name>       the app's folder and package name (my-app)
  --minimal    one service with a gateway of its own, instead of the blog boilerplate (users,
               blogs and comments services, a gateway, the dashboard, a webhook and a timer)
  --dir DIR    its folder, from the current directory. Default: ./<name>
The app depends on the framework's packages at this CLI's version. Nothing is written when the
name is refused or the folder is not empty.`

export async function runCreate(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(
    argv,
    { minimal: { type: 'boolean', default: false }, dir: { type: 'string' } },
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
    const result = await createApp({
      name: positionals[0]!,
      dir: values.dir,
      minimal: values.minimal,
      cwd: process.cwd(),
    })
    const where = relative(process.cwd(), result.dir) || '.'
    io.out(`created ${where} (${result.files.length} files). Next:`)
    io.out(`  cd ${where}`)
    io.out('  npm install')
    io.out('  npx event-driven servers up && npm start   # or docker compose up -d && npm start')
    io.out('  npm test')
    return 0
  } catch (error) {
    if (!(error instanceof ScaffoldError)) throw error
    io.err(error.message)
    return 1
  }
}
