import { pino, type Logger, type LoggerOptions } from 'pino'
import pretty from 'pino-pretty'

/**
 * Whether logs are for a person: stdout is a terminal, or `NODE_ENV` is `development` (as
 * `./dev.sh start` sets it). Otherwise they are for a log collector.
 */
export function logsForPeople(env: NodeJS.ProcessEnv, stdoutIsTty: boolean): boolean {
  return stdoutIsTty || env.NODE_ENV === 'development'
}

/**
 * The logger a process of services runs with: level from `LOG_LEVEL` (default `info`); lines a
 * person reads in a terminal (pino-pretty: time, level, message, then the fields) when
 * `logsForPeople`, else one JSON object per line.
 */
export function createLogger(
  options: LoggerOptions = {},
  env: NodeJS.ProcessEnv = process.env,
  stdout: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
): Logger {
  const settings = { level: env.LOG_LEVEL ?? 'info', ...options }
  if (!logsForPeople(env, Boolean(stdout.isTTY))) return pino(settings, stdout)
  return pino(
    settings,
    pretty({
      destination: stdout,
      colorize: Boolean(stdout.isTTY),
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
    }),
  )
}
