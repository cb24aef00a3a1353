import { request, type RequestOptions } from 'node:http'

function connectionTo(dockerHost: string): RequestOptions {
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) }
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'))
  return { host: url.hostname, port: Number(url.port || 2375) }
}

/**
 * True when a Docker engine answers `GET /_ping` at `dockerHost` within `timeoutMs`.
 * A `docker` client on PATH is not enough: testcontainers needs a running engine.
 */
export function dockerEngineAnswers(dockerHost: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { ...connectionTo(dockerHost), path: '/_ping', method: 'GET', timeout: timeoutMs },
      (res) => {
        res.resume()
        resolve(res.statusCode === 200)
      },
    )
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
    req.end()
  })
}
