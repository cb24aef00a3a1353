import { describe, expect, it } from 'vitest'
import { normalizeAddress } from './client-address.ts'
import { parseApiKeys } from './credentials.ts'
import { createThrottle } from './throttle.ts'

describe('the failure throttle', () => {
  it('blocks a key after the limit until its window ends', () => {
    let now = 0
    const throttle = createThrottle({ limit: 3, windowMs: 1_000, maxTracked: 10, now: () => now })
    throttle.fail('a')
    throttle.fail('a')
    expect(throttle.blockedFor('a')).toBe(0)
    now = 400
    throttle.fail('a')
    expect(throttle.blockedFor('a')).toBe(600)
    expect(throttle.blockedFor('b')).toBe(0)
    now = 999
    expect(throttle.blockedFor('a')).toBe(1)
    now = 1_000
    expect(throttle.blockedFor('a')).toBe(0)
    throttle.fail('a') // a new window: one failure
    expect(throttle.blockedFor('a')).toBe(0)
  })

  it('tracks at most maxTracked keys, forgetting ended windows first, then the oldest', () => {
    let now = 0
    const throttle = createThrottle({ limit: 1, windowMs: 1_000, maxTracked: 100, now: () => now })
    for (let i = 0; i < 10_000; i++) throttle.fail(`address-${i}`)
    expect(throttle.size).toBe(100)
    expect(throttle.blockedFor('address-9999')).toBeGreaterThan(0)
    expect(throttle.blockedFor('address-0')).toBe(0) // forgotten

    now = 2_000 // every window has ended: they make room before anything else goes
    throttle.fail('late')
    expect(throttle.size).toBeLessThanOrEqual(100)
    expect(throttle.blockedFor('late')).toBe(1_000)
  })
})

describe('client addresses', () => {
  it('counts IPv4 as is, IPv4-mapped IPv6 as IPv4, and IPv6 by its /64', () => {
    expect(normalizeAddress('203.0.113.7')).toBe('203.0.113.7')
    expect(normalizeAddress('::ffff:203.0.113.7')).toBe('203.0.113.7')
    expect(normalizeAddress('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64')
    expect(normalizeAddress('2001:DB8:1:2::9')).toBe('2001:db8:1:2::/64')
    expect(normalizeAddress('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(normalizeAddress('::1')).toBe('0:0:0:0::/64')
    expect(normalizeAddress('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
  })
})

describe('parseApiKeys', () => {
  it('reads name:secret as an operator and name:secret:read as read-only', () => {
    expect(parseApiKeys('ops:s1, viewer:s2:read,admin:s3:operate')).toEqual([
      { name: 'ops', secret: 's1', role: 'operate' },
      { name: 'viewer', secret: 's2', role: 'read' },
      { name: 'admin', secret: 's3', role: 'operate' },
    ])
  })

  it('keeps every : but a final role in the secret', () => {
    expect(parseApiKeys('ops:a:b:c,x:read,y:abc:read:operate,z:abc:READ')).toEqual([
      { name: 'ops', secret: 'a:b:c', role: 'operate' },
      { name: 'x', secret: 'read', role: 'operate' },
      { name: 'y', secret: 'abc:read', role: 'operate' },
      { name: 'z', secret: 'abc:READ', role: 'operate' },
    ])
    expect(parseApiKeys(undefined)).toEqual([])
  })

  it('refuses a key without a name or a secret', () => {
    for (const text of ['ops', ':secret', 'ops:', 'ops::read'])
      expect(() => parseApiKeys(text)).toThrow('name:secret or name:secret:role')
  })
})
