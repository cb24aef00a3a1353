import type { IncomingMessage } from 'node:http'

/**
 * The address a request came from, as the throttle counts it: the socket's peer (never a header
 * such as X-Forwarded-For, which anyone can send), an IPv4 address as is (also when IPv6-mapped),
 * an IPv6 address by its /64 prefix, since one host usually holds the whole /64.
 */
export function clientAddressOf(req: IncomingMessage): string {
  return normalizeAddress(req.socket.remoteAddress ?? 'unknown')
}

export function normalizeAddress(address: string): string {
  const plain = address.replace(/%.*$/, '').toLowerCase() // a zone id (`fe80::1%eth0`)
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(plain)
  if (mapped) return mapped[1]!
  if (!plain.includes(':')) return plain
  const [head = '', tail] = plain.split('::')
  const headGroups = head ? head.split(':') : []
  const tailGroups = tail ? tail.split(':') : []
  const zeros = Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0')
  const groups = tail === undefined ? headGroups : [...headGroups, ...zeros, ...tailGroups]
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}
