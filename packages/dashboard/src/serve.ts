import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, normalize } from 'node:path'

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
}

/** Where `pnpm build` puts the bundled front end. */
export const dashboardDist = join(import.meta.dirname, '..', 'dist')

/**
 * Serves the built dashboard: its assets, and `index.html` for every other path (the app routes
 * itself). Give it to `startAdminServer({ ui })`, which asks for credentials first, or mount it in
 * a server of your own beside the admin API. Fails at start when the bundle was not built.
 */
export async function dashboardHandler(dist = dashboardDist) {
  const index = await readFile(join(dist, 'index.html')).catch(() => {
    throw new Error(`the dashboard is not built (${dist}): run pnpm build`)
  })
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = normalize(new URL(req.url ?? '/', 'http://ui').pathname)
    if (path.startsWith('/assets/')) {
      const body = await readFile(join(dist, path)).catch(() => null)
      if (body) {
        res.writeHead(200, {
          'content-type': types[extname(path)] ?? 'application/octet-stream',
          'cache-control': 'public, max-age=31536000, immutable',
        })
        return void res.end(body)
      }
      return void res.writeHead(404).end()
    }
    res.writeHead(200, { 'content-type': types['.html']!, 'cache-control': 'no-store' }).end(index)
  }
}
