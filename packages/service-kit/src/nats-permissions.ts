/**
 * The least a NATS user needs to run each part of a system, and a nats-server `authorization`
 * block that grants it. NATS permissions match whole subject tokens, so where a durable name is
 * not known up front the rule covers every durable of the system's stream (never another stream).
 * `docs/security.md` explains each subject.
 */

/** Subjects a user may publish to and subscribe on, and whether it may answer requests. */
export interface NatsPermissions {
  publish: string[]
  subscribe: string[]
  /** May reply to requests it received (on their one-off reply subject), and nothing else there. */
  allowResponses: boolean
}

/** Names every part of a system shares. */
export interface SystemSubjects {
  /** The events' stream (e.g. `EVENTS`); its parked stream is `<stream>_PARKED`. */
  stream: string
  /** The events' subject prefix (e.g. `events`). */
  subjectPrefix: string
  /** The prefix of request-reply subjects (e.g. `rpc`). */
  rpcPrefix: string
}

/**
 * Where a user's replies come (JetStream API, publish acks, pulls, RPC answers): an inbox prefix
 * of its own, `_INBOX_<user>`, so no other user may subscribe to them. Its processes connect with
 * that prefix (`NatsOptions.inboxPrefix`, `NATS_INBOX_PREFIX`).
 */
export function inboxPrefixOf(user: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(user))
    throw new Error(`NATS user name ${JSON.stringify(user)}: letters, digits, _ and - only`)
  return `_INBOX_${user}`
}

/** What every process running a core service needs: the stream, its consumer groups, the DLQ mover. */
function coreServicePublish({ stream, subjectPrefix }: SystemSubjects): string[] {
  const parked = `${stream}_PARKED`
  return [
    '$JS.API.INFO',
    // The service provisions its stream and the parked stream when they are missing.
    ...[stream, parked].flatMap((name) => [
      `$JS.API.STREAM.INFO.${name}`,
      `$JS.API.STREAM.CREATE.${name}`,
    ]),
    // Its consumer groups (durables of the events' stream) and the DLQ mover of the parked one.
    ...[stream, parked].flatMap((name) => [
      `$JS.API.CONSUMER.INFO.${name}.*`,
      `$JS.API.CONSUMER.CREATE.${name}.*`,
      `$JS.API.CONSUMER.CREATE.${name}.*.>`,
      `$JS.API.CONSUMER.DURABLE.CREATE.${name}.*`,
      `$JS.API.CONSUMER.MSG.NEXT.${name}.*`,
      `$JS.API.CONSUMER.LIST.${name}`,
      `$JS.ACK.${name}.>`,
    ]),
    // A letter MongoDB would not take is parked until it does.
    `${subjectPrefix}_parked.>`,
  ]
}

/**
 * A service: publishes the events of its own entities (`entities: ['User']` → `events.User.>`),
 * consumes its consumer groups, answers requests on `<rpc>.<service>.*`, and calls `calls`. Its
 * user is named after it (inbox `_INBOX_<service>`).
 */
export function servicePermissions(
  system: SystemSubjects,
  service: { name: string; entities: readonly string[]; calls?: readonly string[] },
): NatsPermissions {
  return {
    publish: [
      ...coreServicePublish(system),
      ...service.entities.map((entity) => `${system.subjectPrefix}.${entity}.>`),
      ...(service.calls ?? []).map((other) => `${system.rpcPrefix}.${other}.*`),
    ],
    subscribe: [`${system.rpcPrefix}.${service.name}.*`, `${inboxPrefixOf(service.name)}.>`],
    allowResponses: true,
  }
}

/** The gateway: asks every service (signed requests), and nothing on JetStream. */
export function gatewayPermissions(system: SystemSubjects, user = 'gateway'): NatsPermissions {
  return {
    publish: [`${system.rpcPrefix}.*.*`],
    subscribe: [`${inboxPrefixOf(user)}.>`],
    allowResponses: false,
  }
}

/**
 * The admin API, the dashboard and the CLI: everything on the system's streams (redrive,
 * replay, consumer groups), and no request-reply with services.
 */
export function operatorPermissions(system: SystemSubjects, user = 'operator'): NatsPermissions {
  const parked = `${system.stream}_PARKED`
  return {
    publish: [
      ...coreServicePublish(system),
      ...[system.stream, parked].flatMap((name) => [
        `$JS.API.STREAM.*.${name}`,
        `$JS.API.STREAM.MSG.GET.${name}`,
        `$JS.API.DIRECT.GET.${name}.>`,
        `$JS.API.CONSUMER.*.${name}.*`,
        `$JS.API.CONSUMER.*.${name}.*.>`,
      ]),
      `${system.subjectPrefix}.>`,
    ],
    subscribe: [`${inboxPrefixOf(user)}.>`],
    allowResponses: false,
  }
}

/** One user with every permission of several parts (several services in one process). */
export function unionOf(...parts: NatsPermissions[]): NatsPermissions {
  const unique = (lists: string[][]) => [...new Set(lists.flat())]
  return {
    publish: unique(parts.map((p) => p.publish)),
    subscribe: unique(parts.map((p) => p.subscribe)),
    allowResponses: parts.some((p) => p.allowResponses),
  }
}

/** A user of the `authorization` block: a password, or an nkey (its public key, `U…`). */
export type NatsUser = { permissions: NatsPermissions } & (
  { user: string; password: string } | { nkey: string }
)

const plainName = /^[A-Za-z0-9_.-]{1,64}$/

/**
 * A nats-server `authorization { users = [...] }` block for these users: include it in the
 * server's configuration (`include auth.conf`). Keep the file readable by the server only: it
 * holds the passwords.
 */
export function natsAuthorizationConfig(users: readonly NatsUser[]): string {
  const quote = (text: string) => JSON.stringify(text)
  // An empty allow list grants everything in nats-server: nothing allowed must say so.
  const rule = (subjects: readonly string[]) =>
    subjects.length === 0 ? `{ deny: [">"] }` : `{ allow: [${subjects.map(quote).join(', ')}] }`
  const entries = users.map((u) => {
    const who =
      'nkey' in u
        ? `nkey: ${quote(u.nkey)}`
        : (() => {
            if (!plainName.test(u.user))
              throw new Error(`NATS user name ${quote(u.user)}: letters, digits, _ . - only`)
            return `user: ${quote(u.user)}, password: ${quote(u.password)}`
          })()
    const p = u.permissions
    return [
      `    {`,
      `      ${who}`,
      `      permissions: {`,
      `        publish: ${rule(p.publish)}`,
      `        subscribe: ${rule(p.subscribe)}`,
      ...(p.allowResponses ? [`        allow_responses: true`] : []),
      `      }`,
      `    }`,
    ].join('\n')
  })
  return `authorization {\n  users = [\n${entries.join('\n')}\n  ]\n}\n`
}

/**
 * The same permissions as a user JWT's claims (operator mode: `nsc`, Synadia Cloud), for
 * `encodeUser` of `@nats-io/jwt` or to compare with `nsc describe user`.
 */
export function jwtPermissions(permissions: NatsPermissions): {
  pub: { allow?: string[]; deny?: string[] }
  sub: { allow?: string[]; deny?: string[] }
  resp?: { max: number; ttl: number }
} {
  const rule = (subjects: string[]) => (subjects.length ? { allow: subjects } : { deny: ['>'] })
  return {
    pub: rule(permissions.publish),
    sub: rule(permissions.subscribe),
    // One reply per request received, within the default response window.
    ...(permissions.allowResponses ? { resp: { max: 1, ttl: 0 } } : {}),
  }
}
