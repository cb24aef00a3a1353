import { once } from 'node:events'
import { createConnection } from 'node:net'

/**
 * Publishes messages as a raw client would (the protocol's HPUB over TCP), with a header block
 * given byte for byte: what nats.js itself refuses to send (header names with spaces or
 * non-ASCII), an attacker's own client sends anyway. Resolves once the server processed them.
 */
export async function rawPublish(
  natsUrl: string,
  messages: { subject: string; reply?: string; headerBlock: Uint8Array; body: Uint8Array }[],
): Promise<void> {
  const url = new URL(natsUrl)
  const socket = createConnection(Number(url.port || 4222), url.hostname)
  await once(socket, 'connect')
  const frames = messages.flatMap(({ subject, reply, headerBlock, body }) => [
    Buffer.from(
      `HPUB ${subject}${reply ? ` ${reply}` : ''} ${headerBlock.length} ${headerBlock.length + body.length}\r\n`,
    ),
    headerBlock,
    body,
    Buffer.from('\r\n'),
  ])
  socket.write(
    Buffer.concat([
      Buffer.from('CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\n'),
      ...frames,
      Buffer.from('PING\r\n'),
    ]),
  )
  // The server answers PONG once it has processed everything sent before the PING.
  let received = ''
  for await (const chunk of socket) {
    received += String(chunk)
    if (received.includes('PONG')) break
    if (received.includes('-ERR')) throw new Error(`the NATS server refused: ${received.trim()}`)
  }
  socket.destroy()
}
