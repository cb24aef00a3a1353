import { parseArgs, type ParseArgsConfig } from 'node:util'
import {
  archiveOptionsFromEnv,
  natsOptionsFromEnv,
  serviceDefaults,
  type ArchiveOptions,
} from '@event-driven/core'

/** Flags every command that talks to the servers accepts; the env gives the defaults. */
export const serverFlags = {
  nats: { type: 'string' },
  mongodb: { type: 'string' },
  database: { type: 'string' },
  stream: { type: 'string' },
  'subject-prefix': { type: 'string' },
  bucket: { type: 'string' },
  'archive-prefix': { type: 'string' },
} as const

export const serversUsage = `servers: NATS_URL, MONGODB_URL (or --nats, --mongodb); --database (default event_driven),
         --stream (default EVENTS), --subject-prefix (default events)
nats auth: NATS_USER + NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED_FILE or NATS_CREDS_FILE;
         TLS: NATS_TLS_CA_FILE, NATS_TLS_CERT_FILE + NATS_TLS_KEY_FILE
archive: ARCHIVE_BUCKET (or --bucket), ARCHIVE_PREFIX (or --archive-prefix), S3_URL, S3_REGION,
         S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY`

export interface ServerValues {
  nats?: string
  mongodb?: string
  database?: string
  stream?: string
  'subject-prefix'?: string
  bucket?: string
  'archive-prefix'?: string
}

/** The servers from flags and env; throws (exit 2) when a needed URL is missing. */
export function serverSettings(values: ServerValues, need: { nats: boolean }) {
  const nats = values.nats ?? process.env.NATS_URL
  const mongodb = values.mongodb ?? process.env.MONGODB_URL
  if (!mongodb || (need.nats && !nats)) {
    throw new Error(
      `set ${need.nats ? 'NATS_URL and ' : ''}MONGODB_URL (or ${need.nats ? '--nats and ' : ''}--mongodb): \`pnpm -s infra:up\` prints them for local servers`,
    )
  }
  return {
    // Credentials and TLS for NATS come from the environment (NATS_USER, NATS_CREDS_FILE, …).
    nats: nats ? natsOptionsFromEnv(process.env, nats) : { servers: '' },
    mongodb,
    database: values.database ?? serviceDefaults.database,
    stream: {
      name: values.stream ?? serviceDefaults.stream.name,
      subjectPrefix: values['subject-prefix'] ?? serviceDefaults.stream.subjectPrefix,
    },
    archive: archiveSettings(values),
  }
}

/** The S3 archive from flags and env (`archiveOptionsFromEnv`); undefined when no bucket is named. */
export function archiveSettings(values: ServerValues): ArchiveOptions | undefined {
  return archiveOptionsFromEnv({
    ...process.env,
    ...(values.bucket ? { ARCHIVE_BUCKET: values.bucket } : {}),
    ...(values['archive-prefix'] ? { ARCHIVE_PREFIX: values['archive-prefix'] } : {}),
  })
}

/** Output of a command: stdout lines, stderr lines (a line starting with `\r` redraws in place). */
export interface Io {
  out: (text: string) => void
  err: (text: string) => void
  /** True when stderr is a terminal: progress bars redraw in place. */
  tty: boolean
}

type Flags = NonNullable<ParseArgsConfig['options']>

/**
 * Parses a command's flags and up to `maxPositionals` positionals. On a mistake it prints why
 * and the usage and returns 2; on `--help` it prints the usage and returns 0; callers return a
 * number as is.
 */
export function parseCommand<const F extends Flags>(
  argv: string[],
  flags: F,
  usage: string,
  io: Io,
  maxPositionals = 0,
) {
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...flags, help: { type: 'boolean', default: false } },
    })
    if ((parsed.values as { help?: boolean }).help) {
      io.err(usage)
      return 0
    }
    if (parsed.positionals.length > maxPositionals) {
      io.err(`unexpected argument: ${parsed.positionals[maxPositionals]}\n\n${usage}`)
      return 2
    }
    return parsed
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${usage}`)
    return 2
  }
}
