import { createServer, connect, type Server, type Socket } from 'node:net'
import { freePort } from './ports.ts'

/**
 * A loopback TCP proxy in front of a real server, to cut the network on purpose: `cut()` drops
 * every connection and refuses new ones, as if the server were down; `restore()` lets them in.
 */
export interface TcpProxy {
  port: number
  /** `url` with its host:port replaced by the proxy's. */
  proxiedUrl(url: string): string
  cut(): Promise<void>
  restore(): Promise<void>
  close(): Promise<void>
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const port = await freePort()
  const sockets = new Set<Socket>()
  let server: Server | undefined

  const listen = async () => {
    const proxy = createServer((client) => {
      const upstream = connect(targetPort, targetHost)
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.once('close', () => sockets.delete(socket))
        socket.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve, reject) => {
      proxy.once('error', reject)
      proxy.listen(port, '127.0.0.1', resolve)
    })
    server = proxy
  }
  const cut = async () => {
    const closing = server
    server = undefined
    for (const socket of sockets) socket.destroy()
    if (closing) await new Promise((resolve) => closing.close(resolve))
  }
  await listen()
  return {
    port,
    proxiedUrl: (url) => url.replace(/\/\/[^/]+/, `//127.0.0.1:${port}`),
    cut,
    restore: async () => {
      if (!server) await listen()
    },
    close: cut,
  }
}
