// Writes a nats-server authorization config for the blog system, with a user per part and the
// least each needs (packages/service-kit/src/nats-permissions.ts), plus one `blog` user for the
// process that runs every part (`./dev.sh start`, `node src/main.ts`).
//   node infra/local/nats-auth.ts DIR   → DIR/auth.conf and DIR/users.env (both mode 0600);
//                                         prints NATS_USER, NATS_PASSWORD, NATS_INBOX_PREFIX of
//                                         `blog` on stdout. Each part's process connects with
//                                         NATS_INBOX_PREFIX=_INBOX_<part>.
// Passwords are made once and kept: running it again rewrites the config with the same ones.
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  gatewayPermissions,
  inboxPrefixOf,
  natsAuthorizationConfig,
  operatorPermissions,
  servicePermissions,
  unionOf,
  type NatsPermissions,
  type SystemSubjects,
} from '../../packages/service-kit/src/nats-permissions.ts'

const dir = process.argv[2]
if (!dir) throw new Error('usage: node infra/local/nats-auth.ts DIR')

const system: SystemSubjects = {
  stream: process.env.EVENTS_STREAM ?? 'EVENTS',
  subjectPrefix: process.env.EVENTS_SUBJECT_PREFIX ?? 'events',
  rpcPrefix: process.env.RPC_PREFIX ?? 'rpc',
}
const parts: Record<string, NatsPermissions> = {
  users: servicePermissions(system, { name: 'users', entities: ['User'] }),
  blogs: servicePermissions(system, { name: 'blogs', entities: ['Blog'] }),
  comments: servicePermissions(system, {
    name: 'comments',
    entities: ['Comment'],
    calls: ['blogs'],
  }),
  gateway: gatewayPermissions(system),
  operator: operatorPermissions(system),
}
// Every part in one process, services added with `event-driven new` included.
parts.blog = unionOf(...Object.values(parts), {
  publish: [`${system.rpcPrefix}.>`, `${system.subjectPrefix}.>`],
  subscribe: [`${system.rpcPrefix}.>`, `${inboxPrefixOf('blog')}.>`],
  allowResponses: true,
})

const usersFile = join(dir, 'users.env')
const known = new Map(
  existsSync(usersFile)
    ? readFileSync(usersFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('=') as [string, string])
    : [],
)
const password = (user: string) => {
  const name = `NATS_PASSWORD_${user.toUpperCase()}`
  if (!known.has(name)) known.set(name, randomBytes(18).toString('base64url'))
  return known.get(name)!
}
const config = natsAuthorizationConfig(
  Object.entries(parts).map(([user, permissions]) => ({
    user,
    password: password(user),
    permissions,
  })),
)
writeFileSync(join(dir, 'auth.conf'), config, { mode: 0o600 })
writeFileSync(usersFile, [...known].map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 })
process.stdout.write(
  `NATS_USER=blog\nNATS_PASSWORD=${password('blog')}\nNATS_INBOX_PREFIX=${inboxPrefixOf('blog')}\n`,
)
