import type { EventNames, ServiceNames } from './names.ts'

/**
 * Where the service goes decides how it depends on the framework: inside this monorepo on the
 * workspace's packages (`workspace:*`), elsewhere on their published versions, with a tsconfig
 * and an ESLint config of its own.
 */
export type Placement =
  | { kind: 'workspace'; baseTsconfig: string }
  | { kind: 'standalone'; compilerOptions: Record<string, unknown>; eslintConfig: string }

/** Versions the new package.json uses: the workspace's own, read when the service is made. */
export interface Versions {
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}

/**
 * The files of a new service, by path. The code is thin on purpose: config, the runtime, RPC
 * and the gateway come from `@event-driven/service-kit`, the code path the blog service's own
 * services run on, so a change there reaches every generated service.
 */
export function serviceFiles(
  names: ServiceNames,
  placement: Placement,
  versions: Versions,
): Record<string, string> {
  const files: Record<string, string> = {
    'package.json': packageJson(names, placement, versions),
    'tsconfig.json': tsconfig(placement),
    // Its own, so that \`vitest run\` in its folder does not pick up a workspace's config.
    'vitest.config.ts': `import { defineConfig } from 'vitest/config'\n\nexport default defineConfig({ test: { include: ['src/**/*.spec.ts'] } })\n`,
    'README.md': readme(names, placement),
    'src/events.ts': eventsModule(names),
    'src/gateway.ts': gatewayModule(names),
    'src/service.ts': serviceModule(names),
    'src/main.ts': mainModule(names),
  }
  if (names.consumes.length > 0) files['src/received.ts'] = receivedModule
  for (const event of names.consumes) {
    files[`src/handlers/${event.handler}.ts`] = handlerModule(event)
    files[`src/handlers/${event.handler}.unit.spec.ts`] = handlerTest(event)
  }
  if (placement.kind === 'standalone') files['eslint.config.js'] = placement.eslintConfig
  return files
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

function packageJson(names: ServiceNames, placement: Placement, versions: Versions): string {
  return json({
    name: names.packageName,
    version: '0.1.0',
    private: true,
    description: `The ${names.name} service (made with event-driven new)`,
    type: 'module',
    exports: { '.': './src/service.ts' },
    scripts: {
      start: 'node src/main.ts',
      build: 'tsc -p tsconfig.json',
      lint: 'tsc -p tsconfig.json && eslint src',
      test: 'vitest run',
    },
    dependencies: versions.dependencies,
    devDependencies: versions.devDependencies,
    ...(placement.kind === 'standalone' ? { engines: { node: '>=22' } } : {}),
  })
}

function tsconfig(placement: Placement): string {
  return placement.kind === 'workspace'
    ? json({
        extends: placement.baseTsconfig,
        compilerOptions: { noEmit: true },
        include: ['src', 'vitest.config.ts'],
      })
    : json({
        compilerOptions: { ...placement.compilerOptions, noEmit: true },
        include: ['src', 'vitest.config.ts'],
      })
}

/** The events module: what the service publishes, typed, and what it consumes. */
function eventsModule(names: ServiceNames): string {
  const own = new Set(names.publishes.map((e) => e.subject))
  const published = names.publishes.map(
    (event) => `
export const ${event.constant} = defineEvent({
  subject: '${event.subject}',
  version: 1,
  schema: z.object({ ${event.idField}: z.string(), note: z.string() }),
})
export type ${event.constant}Data = EventData<typeof ${event.constant}>
`,
  )
  const consumed = names.consumes
    .filter((event) => !own.has(event.subject))
    .map(
      (event) => `
/** Published by another service: use its schema and version here (or import its events module). */
export const ${event.constant} = defineEvent({
  subject: '${event.subject}',
  version: 1,
  schema: z.looseObject({}),
})
export type ${event.constant}Data = EventData<typeof ${event.constant}>
`,
    )
  return `// The events of the ${names.name} service. When the shape of an event's data changes, raise its
// version and add an upcaster from the old one (docs/event-history.md in event-driven).
import { defineEvent, type EventData } from '@event-driven/core'
import { z } from 'zod'
${published.join('')}${consumed.join('')}`
}

function gatewayModule(names: ServiceNames): string {
  const types = names.publishes
    .map(
      (event) => `    type ${event.constant}Payload {
      operationId: ID!
      ${event.idField}: ID!
    }`,
    )
    .join('\n')
  const fields = names.publishes
    .map(
      (event) =>
        `      ${event.mutation}(note: String!, idempotencyKey: String): ${event.constant}Payload!`,
    )
    .join('\n')
  const resolvers = names.publishes
    .map(
      (event) =>
        `      ${event.mutation}: (_, args: unknown, ctx) => call('${event.mutation}', args, ctx),`,
    )
    .join('\n')
  return `import type { GatewayPiece } from '@event-driven/service-kit'

/** The ${names.name} service's piece of the GraphQL gateway: one mutation per event it publishes. */
export const ${names.camel}Gateway: GatewayPiece = {
  typeDefs: /* GraphQL */ \`
${types}
    type Mutation {
${fields}
    }
  \`,
  resolvers: (call) => ({
    Mutation: {
${resolvers}
    },
  }),
}
`
}

function serviceModule(names: ServiceNames): string {
  const imports = [
    ...names.publishes.map((e) => e.constant),
    ...names.consumes
      .filter((e) => !names.publishes.some((p) => p.subject === e.subject))
      .map((e) => e.constant),
  ].sort()
  const handlerImports = names.consumes
    .map((event) => `import { ${event.handler} } from './handlers/${event.handler}.ts'\n`)
    .join('')
  const registrations = names.consumes
    .map(
      (event) => `  runtime.core.on(${event.constant}, { handler: '${event.handler}' }, (event) =>
    ${event.handler}(event, received),
  )
`,
    )
    .join('')
  const commands = names.publishes
    .map(
      (event) => `    ${event.mutation}: async (input, actor, call) => {
      const { note } = parseInput(NoteInput, input)
      // The command first, under the operation id the gateway minted (its caller knows it).
      const op = await runtime.core.startOperation({
        id: call.operationId,
        name: '${event.mutation}',
        input: { note },
        actor: actor?.userId ?? null,
      })
      const ${event.idField} = newId()
      await op.publish(${event.constant}, { ${event.idField}, note })
      await op.complete()
      return { operationId: op.id, ${event.idField} }
    },
`,
    )
    .join('')
  const receivedStore = names.consumes.length
    ? `  // What the handlers keep: one document per event handled, written once (idempotent).
  const collection = runtime.db.collection<ReceivedEvent>('received')
  const received: ReceivedStore = {
    keep: async (doc) => {
      await collection.updateOne({ _id: doc._id }, { $setOnInsert: doc }, { upsert: true })
    },
  }
${registrations}`
    : ''
  return `import { newId } from '@event-driven/core'
import {
  createRuntime,
  defineServiceModule,
  parseInput,
  type ServiceConfig,
} from '@event-driven/service-kit'
import type { Logger } from 'pino'
import { z } from 'zod'
import { ${imports.join(', ')} } from './events.ts'
import { ${names.camel}Gateway } from './gateway.ts'
${handlerImports}${names.consumes.length ? `import type { ReceivedEvent, ReceivedStore } from './received.ts'\n` : ''}
const NoteInput = z.object({ note: z.string().trim().min(1, 'must not be empty').max(10_000) })

/**
 * The ${names.name} service. Publishes ${names.publishes.map((e) => e.subject).join(', ')}${names.consumes.length ? `; consumes ${names.consumes.map((e) => e.subject).join(', ')}` : ''}.
 */
async function start(config: ServiceConfig, logger: Logger) {
  const runtime = await createRuntime('${names.name}', config, logger)
${receivedStore}
  await runtime.start({
${commands}  })
  return runtime
}

export const ${names.camel} = defineServiceModule({
  name: '${names.name}',
  start,
  gateway: ${names.camel}Gateway,
})
`
}

const receivedModule = `/** What the handlers keep of each event they handle. */
export interface ReceivedEvent {
  _id: string
  subject: string
  operationId: string
  receivedAt: Date
}

/** Where they keep it: the service passes its MongoDB collection, a test an in-memory fake. */
export interface ReceivedStore {
  /** Writes the document once: a second call with the same \`_id\` changes nothing. */
  keep(doc: ReceivedEvent): Promise<void>
}
`

function handlerModule(event: EventNames): string {
  return `import type { ReceivedEvent } from '@event-driven/core'
import type { ${event.constant}Data } from '../events.ts'
import type { ReceivedStore } from '../received.ts'

/**
 * Handles ${event.subject} (consumer group \`<service>.${event.handler}\`). A delivery may repeat
 * (at least once), so the effect is keyed by the event's id.
 */
export async function ${event.handler}(
  event: ReceivedEvent<${event.constant}Data>,
  received: ReceivedStore,
): Promise<void> {
  await received.keep({
    _id: event.id,
    subject: event.subject,
    operationId: event.operationId,
    receivedAt: new Date(),
  })
}
`
}

function handlerTest(event: EventNames): string {
  return `import { describe, expect, it } from 'vitest'
import type { ReceivedEvent, ReceivedStore } from '../received.ts'
import { ${event.handler} } from './${event.handler}.ts'

describe('${event.handler}', () => {
  it('keeps one document per event, even when the event is delivered twice', async () => {
    const kept = new Map<string, ReceivedEvent>()
    const store: ReceivedStore = {
      keep: async (doc) => {
        if (!kept.has(doc._id)) kept.set(doc._id, doc)
      },
    }
    const event = {
      id: 'event-1',
      subject: '${event.subject}',
      version: 1,
      publishedVersion: 1,
      data: {} as never,
      operationId: 'operation-1',
      parentId: 'operation-1',
      createdAt: new Date(),
    }
    await ${event.handler}(event, store)
    await ${event.handler}(event, store)
    expect([...kept.values()]).toEqual([
      expect.objectContaining({ _id: 'event-1', subject: '${event.subject}', operationId: 'operation-1' }),
    ])
  })
})
`
}

function mainModule(names: ServiceNames): string {
  return `// Runs the ${names.name} service alone, with a gateway of its own: \`pnpm start\`.
// In the event-driven monorepo, the blog service's main.ts runs it beside the others.
import { configFromEnv, startGateway } from '@event-driven/service-kit'
import { pino } from 'pino'
import { ${names.camel} } from './service.ts'

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' })
const config = configFromEnv()
const service = await ${names.camel}.start(config, logger)
const gateway = await startGateway(config, logger, [${names.camel}])
process.stdout.write(\`GraphQL: \${gateway.url}\\n\`)

let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  void gateway
    .stop()
    .then(() => service.stop())
    .then(() => process.exit(0))
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
`
}

function readme(names: ServiceNames, placement: Placement): string {
  const mutations = names.publishes
    .map(
      (e) =>
        `- \`${e.mutation}(note: String!)\`: records an operation and publishes \`${e.subject}\`.`,
    )
    .join('\n')
  const handlers = names.consumes.length
    ? names.consumes
        .map(
          (e) =>
            `- \`${e.handler}\` (consumer group \`${names.name}.${e.handler}\`) handles \`${e.subject}\`: \`src/handlers/${e.handler}.ts\`, with its test.`,
        )
        .join('\n')
    : "- none yet: add one with `runtime.core.on(Definition, { handler: 'onSomething' }, …)` in `src/service.ts`."
  return `# ${names.name}

A service of an event-driven system, made with \`event-driven new ${names.name}\`.

## What it does

Publishes, from GraphQL mutations (each one an operation whose id it returns):

${mutations}

Consumes:

${handlers}

The events are defined in \`src/events.ts\` (typed with zod). The service's piece of the GraphQL
schema is \`src/gateway.ts\`; \`src/service.ts\` wires handlers and request-reply methods.
Config, the runtime (its own database \`<DATABASE_PREFIX>${names.name}\`, the event store, NATS
request-reply) and the gateway come from \`@event-driven/service-kit\`.

## Run, test

${
  placement.kind === 'workspace'
    ? `In the monorepo, \`pnpm install\` once, then \`./dev.sh start\` (or \`pnpm start\` at the root) runs it
with the blog service, and the gateway serves its mutations. Alone: \`pnpm --filter ${names.packageName} start\`.`
    : `\`pnpm install\`, then \`pnpm start\` with \`NATS_URL\` and \`MONGODB_URL\` set runs it with a gateway of its own.`
}

\`\`\`sh
${placement.kind === 'workspace' ? `pnpm --filter ${names.packageName} ` : 'pnpm '}test    # its tests
${placement.kind === 'workspace' ? `pnpm --filter ${names.packageName} ` : 'pnpm '}lint    # tsc and ESLint
\`\`\`
`
}
