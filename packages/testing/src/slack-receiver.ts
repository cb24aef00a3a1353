import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { eventually, type EventuallyOptions } from './eventually.ts'

/** One POST the receiver got. */
export interface ReceivedPost {
  path: string
  headers: IncomingHttpHeaders
  /** The parsed JSON body (Slack webhooks always send JSON). */
  body: unknown
  /** The status the receiver answered with. */
  status: number
  receivedAt: Date
}

export interface SlackReceiver {
  /** The webhook URL to configure (`SLACK_WEBHOOK_URL`). */
  url: string
  /** Every POST, in order, including those answered with a failure. */
  readonly posts: readonly ReceivedPost[]
  /** The POSTs answered with 200: the messages that reached the "channel". */
  readonly delivered: readonly ReceivedPost[]
  /** Answers the next `count` POSTs with `status` (default 500), as Slack does when it is down. */
  failNext(count: number, status?: number): void
  /** Polls until at least `count` messages were delivered; returns them. */
  waitForDelivered(count: number, options?: EventuallyOptions): Promise<readonly ReceivedPost[]>
  close(): Promise<void>
}

export interface SlackReceiverOptions {
  /** Answer the first N POSTs with `failStatus`. Default 0. */
  failFirst?: number
  /** Status for failed answers. Default 500. */
  failStatus?: number
}

/**
 * A local HTTP server that stands in for a Slack incoming webhook: it records the JSON bodies
 * POSTed to it and answers `ok`, or fails on request. Listens on 127.0.0.1 on a free port.
 */
export async function startSlackReceiver(
  options: SlackReceiverOptions = {},
): Promise<SlackReceiver> {
  const posts: ReceivedPost[] = []
  let failuresLeft = options.failFirst ?? 0
  let failStatus = options.failStatus ?? 500

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (req.method !== 'POST') {
        res.writeHead(405).end()
        return
      }
      let body: unknown
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        // Slack's own answer to a body that is not JSON.
        res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload')
        return
      }
      const status = failuresLeft > 0 ? failStatus : 200
      if (failuresLeft > 0) failuresLeft -= 1
      posts.push({
        path: req.url ?? '/',
        headers: req.headers,
        body,
        status,
        receivedAt: new Date(),
      })
      res
        .writeHead(status, { 'content-type': 'text/plain' })
        .end(status === 200 ? 'ok' : 'internal_error')
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  const delivered = () => posts.filter((p) => p.status === 200)

  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/test`,
    get posts() {
      return posts
    },
    get delivered() {
      return delivered()
    },
    failNext(count, status = 500) {
      failuresLeft = count
      failStatus = status
    },
    waitForDelivered(count, waitOptions) {
      return eventually(() => {
        const got = delivered()
        if (got.length < count)
          throw new Error(`expected ${count} Slack messages, got ${got.length}`)
        return got
      }, waitOptions)
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}
