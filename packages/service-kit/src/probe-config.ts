import { ConfigurationError } from '@event-driven/core'

/** Where a process's probe server listens. */
export interface ProbeSettings {
  /** `PROBE_HOST`. Default 127.0.0.1 (set 0.0.0.0 in a container, for the kubelet). */
  host: string
  /** `PROBE_PORT`: 0 picks a free port (the process prints it). */
  port: number
}

/**
 * The probe server's settings: `PROBE_PORT` unset or empty turns it off (so two processes on
 * one host never fight over a default port); `0` picks a free port; any other port is used as
 * is. `PROBE_HOST` defaults to loopback.
 */
export function probeSettingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): ProbeSettings | undefined {
  const text = env.PROBE_PORT
  if (text === undefined || text === '') return undefined
  const port = Number(text)
  if (!/^\d{1,5}$/.test(text) || port > 65_535)
    throw new ConfigurationError(
      `PROBE_PORT must be a port from 0 to 65535 (0: a free one), got ${JSON.stringify(text)}`,
    )
  return { host: env.PROBE_HOST || '127.0.0.1', port }
}

/**
 * The probe port of the `index`-th process of a split run: `base + index`, so each child has its
 * own; a base of 0 stays 0 (each child picks a free port and prints it).
 */
export function probePortOfPart(base: number, index: number): number {
  if (base === 0) return 0
  const port = base + index
  if (port > 65_535)
    throw new ConfigurationError(`PROBE_PORT ${base} + part ${index} is past port 65535`)
  return port
}
