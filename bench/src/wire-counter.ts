import { createConnection, createServer, type Socket } from 'node:net'
import { BSON } from 'mongodb'

/**
 * A TCP proxy in front of the MongoDB server that counts the requests (wire-protocol messages)
 * clients send through it: round trips of a process the benchmark cannot instrument (the blog
 * service runs as its own process). Each message starts with its length (int32, little endian).
 */
export interface WireCounter {
  /** A MongoDB URL through the proxy (`directConnection`, so the driver never goes around it). */
  url: string
  /** Requests sent through it so far. */
  requests(): number
  /** Requests so far by `<command> <collection>` (`insert events`, `find outbox`). */
  byCommand(): Map<string, number>
  close(): Promise<void>
}

export async function startWireCounter(mongodbUrl: string): Promise<WireCounter> {
  const target = new URL(mongodbUrl)
  let requests = 0
  const byCommand = new Map<string, number>()
  const count = (message: Buffer) => {
    requests += 1
    const name = commandOf(message)
    byCommand.set(name, (byCommand.get(name) ?? 0) + 1)
  }
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = createConnection(Number(target.port || 27017), target.hostname)
    sockets.add(client).add(upstream)
    let pending: Buffer = Buffer.alloc(0)
    client.on('data', (chunk: Buffer) => {
      // Count whole messages: a chunk may hold several, or part of one.
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        count(pending.subarray(0, pending.readInt32LE(0)))
        pending = pending.subarray(pending.readInt32LE(0))
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => client.write(chunk))
    const end = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const url = new URL(mongodbUrl)
  url.host = `127.0.0.1:${port}`
  url.searchParams.set('directConnection', 'true')
  return {
    url: url.toString(),
    requests: () => requests,
    byCommand: () => new Map(byCommand),
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** `<command> <collection>` of an OP_MSG (opCode 2013) whose body is section 0; else `other`. */
function commandOf(message: Buffer): string {
  try {
    if (message.readInt32LE(12) !== 2013 || message[20] !== 0) return 'other'
    const size = message.readInt32LE(21)
    const body = BSON.deserialize(message.subarray(21, 21 + size), { promoteBuffers: true })
    const [command, target] = (Object.entries(body)[0] ?? ['other', '']) as [string, unknown]
    return typeof target === 'string' ? `${command} ${target}` : command
  } catch {
    return 'unreadable'
  }
}
