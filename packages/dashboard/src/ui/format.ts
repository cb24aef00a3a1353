/** A JSON payload indented; anything else (the payload that failed to parse) as it came. */
export function pretty(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2)
  } catch {
    return payload
  }
}

export const time = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—')
