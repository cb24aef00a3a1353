import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import * as prettier from 'prettier'
import type { Versions } from './files.ts'

/**
 * The monorepo this CLI belongs to, when it runs from its sources (`.ts`, in a checkout);
 * undefined when it runs from its build, installed from a registry.
 */
export const frameworkRoot: string | undefined = import.meta.filename.endsWith('.ts')
  ? resolve(import.meta.dirname, '..', '..', '..', '..')
  : undefined

/**
 * What a service made outside the monorepo is given: the versions its package.json depends on,
 * its TypeScript options, ESLint config and Prettier settings. Read from the monorepo when the CLI
 * runs from its sources; its build ships them (`standalone-kit.json`, written by `pnpm build`),
 * so an installed CLI needs no checkout.
 */
export interface StandaloneKit {
  versions: Versions
  /** What an app made with `event-driven create` depends on: the blog's packages, and the CLI. */
  appVersions: Versions
  compilerOptions: Record<string, unknown>
  eslintConfig: string
  prettier: prettier.Options
}

const shippedKit = join(import.meta.dirname, 'standalone-kit.json')

export async function standaloneKit(): Promise<StandaloneKit> {
  if (frameworkRoot) return kitFromRepo(frameworkRoot)
  if (!existsSync(shippedKit)) throw new Error(`this build of the CLI lacks ${shippedKit}`)
  return JSON.parse(readFileSync(shippedKit, 'utf8')) as StandaloneKit
}

const readJson = (path: string) =>
  JSON.parse(readFileSync(path, 'utf8')) as {
    version: string
    dependencies?: Record<string, string>
    devDependencies?: Record<string, string>
    peerDependencies?: Record<string, string>
    compilerOptions?: Record<string, unknown>
  }

/** The kit as the monorepo at `root` gives it: the framework's packages at their own versions. */
export async function kitFromRepo(root: string): Promise<StandaloneKit> {
  const rootDev = readJson(join(root, 'package.json')).devDependencies ?? {}
  const blog =
    readJson(join(root, 'boilerplate', 'blog-service', 'package.json')).dependencies ?? {}
  const framework = (pkg: string) =>
    `^${readJson(join(root, 'packages', pkg, 'package.json')).version}`
  const pick = (from: Record<string, string>, keys: string[]) =>
    Object.fromEntries(keys.map((key) => [key, from[key]!]))
  // The workspace resolves its own packages to their sources; a service elsewhere installs builds.
  const compilerOptions = { ...readJson(join(root, 'tsconfig.base.json')).compilerOptions }
  delete compilerOptions.customConditions
  const corePeers = readJson(join(root, 'packages', 'core', 'package.json')).peerDependencies ?? {}
  const tools = pick(rootDev, [
    '@eslint/js',
    '@types/node',
    'eslint',
    'typescript',
    'typescript-eslint',
    'vitest',
  ])
  return {
    versions: {
      dependencies: {
        '@event-driven/core': framework('core'),
        '@event-driven/service-kit': framework('service-kit'),
        ...pick(blog, ['@nats-io/transport-node', 'graphql', 'mongodb', 'pino', 'zod']),
      },
      devDependencies: { '@event-driven/testing': framework('testing'), ...tools },
    },
    appVersions: {
      dependencies: {
        '@event-driven/core': framework('core'),
        '@event-driven/dashboard': framework('dashboard'),
        '@event-driven/service-kit': framework('service-kit'),
        ...pick(blog, [
          '@nats-io/transport-node',
          '@opentelemetry/api',
          '@opentelemetry/context-async-hooks',
          '@opentelemetry/exporter-trace-otlp-proto',
          '@opentelemetry/resources',
          '@opentelemetry/sdk-trace',
          'graphql',
          'graphql-yoga',
          'mongodb',
          'pino',
          'zod',
        ]),
        // The core's peers: JetStream, the S3 archive and Slack alerts the app can turn on,
        // prom-client for the metrics its main.ts serves, and Hono for the admin API its admin.ts
        // serves (OpenTelemetry, for its tracing.ts, is taken with the blog's versions above).
        ...pick(corePeers, [
          '@nats-io/jetstream',
          '@aws-sdk/client-s3',
          '@slack/webhook',
          'prom-client',
          'hono',
          '@hono/zod-openapi',
        ]),
      },
      devDependencies: {
        '@event-driven/cli': framework('cli'),
        '@event-driven/testing': framework('testing'),
        ...tools,
      },
    },
    compilerOptions,
    eslintConfig: readFileSync(join(root, 'eslint.config.js'), 'utf8'),
    prettier: (await prettier.resolveConfig(join(root, 'package.json'))) ?? {},
  }
}
