#!/usr/bin/env node
// event-driven <command>: operate an event-driven system from a terminal.
// Exit codes: 0 done; 1 refused, not found or partly failed; 2 wrong usage or configuration.
import { createRequire } from 'node:module'
import { runAdd } from './add-command.ts'
import { runArchive } from './archive-command.ts'
import { runCreate } from './create-command.ts'
import { runDlq } from './dlq-command.ts'
import { runMigrate } from './migrate-command.ts'
import { runNew } from './new-command.ts'
import { runPartitions } from './partitions-command.ts'
import { runReplay } from './replay-command.ts'
import { runServers } from './servers-command.ts'
import type { Io } from './settings.ts'

// The package's own version: package.json is one folder up from both src/ and dist/.
const { version } = createRequire(import.meta.url)('../package.json') as { version: string }

const usage = `usage: event-driven <command> [options]   (--help after a command for its options)

commands:
  create <name> [--minimal]                a new app (what npm create event-driven runs)
  new <name>                               a new service from the boilerplate's template
  add event|handler <Entity.verb>          an event or a handler more in a service made by new
  dlq list|show|redrive|discard|resolve   the dead letter queue
  replay                                   deliver stored or archived events to one consumer group
  migrate                                  rewrite stored events to their current version, or the
                                           framework's own records to the current format
  archive status|run|stream <name>         what waits for the S3 archive; archive it now
  partitions [set <n>]                     the partitions of keyed events; change their number
  servers up|down|status|env               local NATS, MongoDB (FerretDB) and S3 servers
  --version                                this CLI's version`

const commands: Record<string, (argv: string[], io: Io) => Promise<number>> = {
  create: runCreate,
  new: runNew,
  add: runAdd,
  dlq: runDlq,
  replay: runReplay,
  migrate: runMigrate,
  archive: runArchive,
  partitions: runPartitions,
  servers: runServers,
}

const io: Io = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) =>
    void process.stderr.write(text.endsWith('\r') || text.startsWith('\r') ? text : `${text}\n`),
  tty: Boolean(process.stderr.isTTY),
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === '--version' || name === '-v') {
    io.out(version)
    return 0
  }
  const command = name ? commands[name] : undefined
  if (!command) {
    io.err(usage)
    return name === '--help' || name === '-h' ? 0 : 2
  }
  return command(rest, io)
}

// What is thrown is a setting or a server that does not work (a refusal is an exit code of 1).
process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`)
  return 2
})
